"""A batch's book changes: the levels it touched at their new sizes, the update ids it spanned
(chaining batch to batch with no hole), the best levels after it."""

from __future__ import annotations

import random
from collections import Counter

from exchange_mock.domain.commands import CancelOrder, Command, FundAccount, UpdateMarkPrice
from exchange_mock.domain.events import Event, PositionAutoDeleveraged, PositionLiquidated
from exchange_mock.domain.replies import Done
from exchange_mock.engine import Engine
from exchange_mock.engine.book_changes import BEST_LEVELS
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, OrderId, Side
from tests.engine.commands import BTC, ETH, limit, market, ok, usdt
from tests.engine.test_core import burst, burst_engine

A, B = AccountId(1), AccountId(2)
MARK = 1_225_000


def funded(symbols: SymbolTable) -> Engine:
    engine = Engine(symbols, 20)
    for account in (A, B):
        ok(engine, FundAccount(account, usdt(10_000_000), 0))
    ok(engine, UpdateMarkPrice(BTC, MARK, 0))
    return engine


def batch(engine: Engine, *commands: Command) -> list[Event]:
    events: list[Event] = []
    for command in commands:
        events += ok(engine, command)
    return events


def test_a_batch_reports_each_touched_level_at_its_size_after_the_batch(
    symbols: SymbolTable,
) -> None:
    engine = funded(symbols)
    events = batch(
        engine,
        limit(A, Side.BUY, 5, MARK - 10),
        limit(A, Side.BUY, 3, MARK - 10),
        limit(A, Side.BUY, 2, MARK - 20),
        limit(B, Side.SELL, 4, MARK + 10),
        market(B, Side.SELL, 9),  # takes all 8 at MARK - 10 and 1 of MARK - 20
    )
    [change] = engine.book_changes(events)
    assert change.symbol == BTC
    assert change.bids == ((MARK - 10, 0), (MARK - 20, 1))
    assert change.asks == ((MARK + 10, 4),)
    assert change.best_bids == ((MARK - 20, 1),)
    assert change.best_asks == ((MARK + 10, 4),)
    # Five orders accepted, three makers and the taker updated, three trades.
    assert (change.first_update_id, change.update_id) == (1, 12)
    assert change.ts == max(getattr(e, "ts", 0) for e in events)


def test_consecutive_batches_chain_their_ids_even_when_no_level_changed(
    symbols: SymbolTable,
) -> None:
    engine = funded(symbols)
    first = engine.book_changes(batch(engine, limit(A, Side.BUY, 5, MARK - 10)))
    # A market order into an empty ask side expires: ids move, no level does.
    second = engine.book_changes(batch(engine, market(A, Side.BUY, 1)))
    rested = first[0].update_id
    assert second[0].first_update_id == rested + 1
    assert (second[0].bids, second[0].asks) == ((), ())
    events, reply = engine.handle(CancelOrder(A, BTC, OrderId(1), None, 2))
    assert isinstance(reply, Done)
    [third] = engine.book_changes(events)
    assert third.first_update_id == second[0].update_id + 1
    assert third.bids == ((MARK - 10, 0),) and third.best_bids == ()
    assert engine.depth(BTC, 5)[0] == third.update_id, "the snapshot's id ends a change"


def test_every_touched_level_is_reported_and_the_best_twenty_after_it(
    symbols: SymbolTable,
) -> None:
    engine = funded(symbols)
    orders = [limit(A, Side.BUY, 1, MARK - 10 * n) for n in range(1, BEST_LEVELS + 6)]
    [change] = engine.book_changes(batch(engine, *orders))
    assert change.symbol == BTC
    assert len(change.bids) == BEST_LEVELS + 5
    assert change.best_bids == change.bids[:BEST_LEVELS]
    assert engine.book_changes([]) == []


def test_a_book_kept_from_the_changes_alone_is_the_engines_through_liquidations(
    symbols: SymbolTable,
) -> None:
    """The promise the depth streams rest on: batch after batch of every kind of command
    (liquidations by the book, ADL, cancels of the liquidated), a book built from the changes
    alone equals the engine's, level by level, and the ids chain without a hole."""
    engine = burst_engine(symbols)
    mirrors: dict[str, tuple[dict[int, int], dict[int, int]]] = {BTC: ({}, {}), ETH: ({}, {})}
    last = {BTC: 0, ETH: 0}
    rng = random.Random(5)
    batch: list[Event] = []
    commands, size, kinds = 0, 1, Counter[type]()
    for _command, events, _reply in burst(engine, 2, 3_000):
        batch += events
        kinds.update(type(event) for event in events)
        commands += 1
        if commands < size:
            continue
        for change in engine.book_changes(batch):
            assert change.first_update_id == last[change.symbol] + 1
            last[change.symbol] = change.update_id
            sides = (change.bids, change.asks)
            for mirror, levels in zip(mirrors[change.symbol], sides, strict=True):
                mirror.update(levels)
            update_id, bids, asks = engine.depth(change.symbol, 10**6)
            assert change.update_id == update_id
            assert (change.best_bids, change.best_asks) == (tuple(bids[:20]), tuple(asks[:20]))
        for symbol, (bids, asks) in mirrors.items():
            _, book_bids, book_asks = engine.depth(symbol, 10**6)
            assert sorted((p, q) for p, q in bids.items() if q) == sorted(book_bids)
            assert sorted((p, q) for p, q in asks.items() if q) == sorted(book_asks)
        batch, commands, size = [], 0, rng.randint(1, 30)
    assert kinds[PositionLiquidated] > 5 and kinds[PositionAutoDeleveraged]
