"""What does checking every open position against a new mark cost, per account, as the number
of positions grows — and how far is that from the floor any Python loop pays?

For 1k, 10k and 100k accounts, each long BTC with its own margin (liquidation prices spread
from 1% to 50% under the price), against one large short, the engine handles a stream of mark
updates that liquidate nobody: the common case, every second, for every symbol. Three ways:

- engine: `Engine.handle(UpdateMarkPrice)`, whose check reads the ends of the symbol's sorted
  liquidation-price lists (O(log n));
- rescan: the same exact margin test (`risk.liquidatable`), run on every account holding the
  symbol: what a check without the index would do, O(n);
- floor: a loop over the same accounts' liquidation prices doing one integer comparison each,
  the least any per-account check can cost in Python.

Costs are per mark update and per account per mark update; ratios are against the floor.

Run: python benchmarks/liquidation_check.py [mark updates per round, default 2000]
"""

from __future__ import annotations

import random
import sys

from harness import best_of

from exchange_mock.domain.commands import (
    Command,
    FundAccount,
    PlaceOrder,
    SetLeverage,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import BalanceChanged, PositionChanged
from exchange_mock.engine import Engine
from exchange_mock.risk import Tiers, liquidatable
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import CASH_SCALE, AccountId, Cash, Lots, OrderType, Side, TimeInForce

Held = tuple[Lots, Cash, Cash]
"""An account's position size, entry cost and wallet, as its events left them."""

SIZES = (1_000, 10_000, 100_000)
ROUNDS = 3
LOTS = 10
"""0.01 BTC per account."""
SYMBOL = "BTCUSDT"


def build(symbols: SymbolTable, accounts: int, seed: int) -> tuple[Engine, list[int], list[Held]]:
    """An engine with `accounts` longs against one short; their liquidation prices; and every
    account's position and wallet, followed from the events."""
    rng = random.Random(seed)
    engine = Engine(symbols, 20)
    spec = symbols.by_name[SYMBOL]
    price = spec.ticks(spec.reference_price)
    assert price is not None
    notional = price * LOTS * spec.cash_per_tick_lot
    short = AccountId(accounts + 1)
    held: dict[AccountId, list[int]] = {}

    def handle(command: Command) -> None:
        for event in engine.handle(command)[0]:
            if isinstance(event, PositionChanged):
                held.setdefault(event.account, [0, 0, 0])[:2] = [event.qty, event.cost]
            elif isinstance(event, BalanceChanged):
                held.setdefault(event.account, [0, 0, 0])[2] = event.balance

    engine.handle(UpdateMarkPrice(SYMBOL, price, 0))
    engine.handle(FundAccount(short, 10**10 * CASH_SCALE, 0))
    engine.handle(SetLeverage(short, SYMBOL, 1, 0))  # at 1x its cap (1bn) holds every long
    handle(
        PlaceOrder(
            short,
            SYMBOL,
            Side.SELL,
            OrderType.LIMIT,
            LOTS * accounts,
            price,
            TimeInForce.GTC,
            False,
            "",
            0,
        )
    )
    for number in range(1, accounts + 1):
        account = AccountId(number)
        margin = notional * rng.uniform(0.06, 0.5)  # liquidated 1% to 50% under the price
        engine.handle(FundAccount(account, int(margin), 0))
        handle(
            PlaceOrder(account, SYMBOL, Side.BUY, OrderType.MARKET, LOTS, None, None, False, "", 0)
        )
    prices = [engine.liquidation_price(AccountId(n), SYMBOL) or 0 for n in range(1, accounts + 1)]
    assert len(held) == accounts + 1 and all(prices), "every account holds a position"
    return engine, prices, [(lots, cost, wallet) for lots, cost, wallet in held.values()]


def main() -> None:
    updates = int(sys.argv[1]) if len(sys.argv) > 1 else 2_000
    symbols = SymbolTable.load()
    spec = symbols.by_name[SYMBOL]
    reference = spec.ticks(spec.reference_price)
    assert reference is not None
    marks = [reference + offset % 50 for offset in range(updates)]
    print(f"liquidation_check: {updates:,} mark updates per round that liquidate nobody")
    print(
        f"  {'positions':>9}  {'engine/mark':>12}  {'per account':>11}  {'rescan/mark':>12}"
        f"  {'floor/mark':>11}  {'engine÷floor':>12}  {'rescan÷floor':>12}"
    )
    tiers, unit = Tiers(spec), spec.cash_per_tick_lot
    for accounts in SIZES:
        engine, prices, held = build(symbols, accounts, seed=accounts)
        # The O(n) ways run fewer updates at the larger sizes, to keep the run short.
        rescan_marks = marks[: max(10, updates * 1_000 // accounts)]

        def run_engine(engine: Engine = engine) -> None:
            for ts, mark in enumerate(marks, start=1):
                engine.handle(UpdateMarkPrice(SYMBOL, mark, ts))

        def run_rescan(held: list[Held] = held, rescan: list[int] = rescan_marks) -> None:
            for mark in rescan:
                for lots, cost, wallet in held:
                    if liquidatable(tiers, lots, cost, unit, wallet, mark):
                        raise AssertionError("nobody should be due")

        def run_floor(prices: list[int] = prices, rescan: list[int] = rescan_marks) -> None:
            for mark in rescan:
                hits = 0
                for price in prices:
                    if price >= mark:
                        hits += 1

        engine_s = best_of(ROUNDS, run_engine) / len(marks)
        rescan_s = best_of(ROUNDS, run_rescan) / len(rescan_marks)
        floor_s = best_of(ROUNDS, run_floor) / len(rescan_marks)
        assert not any(s.count for s in engine.liquidations().values())
        print(
            f"  {accounts:>9,}  {engine_s * 1e6:>9.2f} µs  {engine_s / accounts * 1e9:>8.3f} ns"
            f"  {rescan_s * 1e3:>9.2f} ms  {floor_s * 1e3:>8.3f} ms"
            f"  {engine_s / floor_s:>12.4f}  {rescan_s / floor_s:>12.1f}"
        )


if __name__ == "__main__":
    main()
