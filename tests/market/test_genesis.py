"""What an empty journal starts with, applied to a pure engine as the live engine applies it: the
configured accounts, the shock account right after them and, when configured, a crowd of
leveraged positions in every contract, all conserved, for a shock to liquidate."""

from __future__ import annotations

from decimal import Decimal

from exchange_mock.accounts import AccountBook
from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import Command, FundAccount, UpdateMarkPrice
from exchange_mock.domain.events import PositionChanged
from exchange_mock.domain.replies import Rejected
from exchange_mock.engine import Engine
from exchange_mock.node import genesis
from exchange_mock.settings import Crowd
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId

SYMBOLS, COLLATERAL = SymbolTable.load(), CollateralTable.load()
BOOK = AccountBook("genesis-test", 5, Decimal(100_000), 2, Decimal(50_000_000))
CROWD = Crowd(accounts=40, holders=4)
TS = 1_760_000_000_000


def _apply(commands: list[Command]) -> tuple[Engine, dict[tuple[AccountId, str], int]]:
    """A fresh engine after `commands`, and every position they left open."""
    engine = Engine(SYMBOLS, 20, COLLATERAL.assets)
    positions: dict[tuple[AccountId, str], int] = {}
    for command in commands:
        events, reply = engine.handle(command)
        assert not isinstance(reply, Rejected), (command, reply)
        for event in events:
            if isinstance(event, PositionChanged):
                positions[(event.account, event.symbol)] = event.qty
    return engine, {key: qty for key, qty in positions.items() if qty}


def test_without_a_crowd_nobody_holds_a_position() -> None:
    engine, positions = _apply(genesis(BOOK, SYMBOLS, TS))
    assert positions == {}
    assert engine.audit().balanced


def test_the_crowd_holds_leveraged_positions_in_every_contract_after_the_shock_account() -> None:
    commands = genesis(BOOK, SYMBOLS, TS, CROWD, seed=7)
    engine, positions = _apply(commands)
    shocker = BOOK.shock_account
    funded = {command.account for command in commands if isinstance(command, FundAccount)}
    assert shocker == len(BOOK.accounts) + 1 and shocker in funded
    first = shocker + 1
    for number, spec in enumerate(SYMBOLS.symbols):
        start = AccountId(first + number * CROWD.size)
        traders = CROWD.traders(start)
        assert len(traders) == CROWD.accounts and traders.stop == start + CROWD.size
        held = {account for account, symbol in positions if symbol == spec.symbol}
        assert set(traders) <= held  # every trader opened its position...
        assert held <= set(range(start, traders.stop))  # ...against its own contract's holders
        longs = sum(positions[(AccountId(trader), spec.symbol)] > 0 for trader in traders)
        assert CROWD.accounts // 2 < longs < CROWD.accounts  # mostly long, as in October
        reference = spec.ticks(spec.reference_price)
        assert engine.top(spec.symbol) == (None, None, reference)  # an empty book at the price
    assert engine.audit().balanced


def test_the_same_seed_opens_the_same_crowd_and_another_seed_another() -> None:
    assert genesis(BOOK, SYMBOLS, TS, CROWD, seed=7) == genesis(BOOK, SYMBOLS, TS, CROWD, seed=7)
    assert genesis(BOOK, SYMBOLS, TS, CROWD, seed=7) != genesis(BOOK, SYMBOLS, TS, CROWD, seed=8)


def test_the_crowd_starts_solvent_and_a_fall_of_the_mark_liquidates_many_of_it() -> None:
    engine, _ = _apply(genesis(BOOK, SYMBOLS, TS, CROWD, seed=7))
    spec = SYMBOLS.by_name["BTCUSDT"]
    reference = spec.ticks(spec.reference_price)
    assert reference is not None
    engine.handle(UpdateMarkPrice("BTCUSDT", reference, TS + 1_000))
    assert engine.liquidations()["BTCUSDT"].count == 0
    engine.handle(UpdateMarkPrice("BTCUSDT", reference * 92 // 100, TS + 2_000))
    stats = engine.liquidations()["BTCUSDT"]
    assert stats.count >= CROWD.accounts // 4, stats
    assert engine.liquidations()["ETHUSDT"].count == 0
    assert engine.audit().balanced
