"""How many orders per second does the pure engine take on one core, and how far is that from
the floor any Python order book pays?

A seeded mixed workload (limit orders around the mid, some crossing; cancels; market orders;
IOC orders; occasional mark updates) from many accounts on every listed symbol is recorded once
against a scratch engine, so that cancels name real order ids, then replayed against a fresh
engine under the timer. The baseline takes the same commands through the same kind of method
call, doing only one dict insert and one deque append each: the bookkeeping any resting order
needs in Python, with nothing else.

Run: python benchmarks/engine_matching.py [order commands, default 100000]
"""

from __future__ import annotations

import random
import sys
import time
from collections import deque

from harness import best_of

from exchange_mock.domain.commands import (
    CancelOrder,
    Command,
    FundAccount,
    PlaceOrder,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import OrderAccepted, OrderUpdated
from exchange_mock.engine import Engine
from exchange_mock.symbols import SymbolSpec, SymbolTable, to_cash
from exchange_mock.types import (
    CASH_SCALE,
    OPEN_STATUSES,
    AccountId,
    OrderId,
    OrderType,
    Side,
    TimeInForce,
)

ACCOUNTS = 50
BALANCE = 10_000_000 * CASH_SCALE
LEVERAGE = 20
SPREAD_TICKS = 200
"""Passive orders land within this many ticks of the mid."""
MAX_OPEN = 150
"""An account cancels its oldest order first once it has this many open on a symbol."""
ROUNDS = 3
BATCH = 64
"""Commands per engine round when the book changes are read after each round, as the runner
reads them for the depth streams."""


def record(symbols: SymbolTable, count: int, seed: int) -> list[Command]:
    """A workload of `count` order commands (after funding and marks), driven by a scratch
    engine's events so that cancels target orders that are really open."""
    rng = random.Random(seed)
    engine = Engine(symbols, LEVERAGE)
    commands: list[Command] = []
    open_orders: dict[tuple[AccountId, str], dict[OrderId, None]] = {}

    def apply(command: Command) -> None:
        commands.append(command)
        for event in engine.handle(command)[0]:
            if isinstance(event, OrderAccepted | OrderUpdated):
                order = event.order
                mine = open_orders.setdefault((order.account, order.symbol), {})
                if order.status in OPEN_STATUSES:
                    mine[order.order_id] = None
                else:
                    mine.pop(order.order_id, None)

    for number in range(1, ACCOUNTS + 1):
        apply(FundAccount(AccountId(number), BALANCE, 0))
    specs = symbols.symbols
    mids = {spec.symbol: _ticks(spec) for spec in specs}
    for spec in specs:
        apply(UpdateMarkPrice(spec.symbol, mids[spec.symbol], 0))
    for ts in range(1, count + 1):
        spec = rng.choice(specs)
        symbol, mid, min_lots = spec.symbol, mids[spec.symbol], _min_lots(spec)
        account = AccountId(rng.randint(1, ACCOUNTS))
        mine = open_orders.get((account, symbol), {})
        side = rng.choice((Side.BUY, Side.SELL))
        roll = rng.random()
        if len(mine) >= MAX_OPEN:
            apply(CancelOrder(account, symbol, next(iter(mine)), None, ts))
        elif mine and roll < 0.35:
            apply(CancelOrder(account, symbol, rng.choice(list(mine)), None, ts))
        elif roll < 0.45:
            qty = rng.randint(min_lots, 3 * min_lots)
            apply(
                PlaceOrder(
                    account, symbol, side, OrderType.MARKET, qty, None, None, False, f"m{ts}", ts
                )
            )
        else:
            aggressive = roll < 0.55
            offset = rng.randint(-5, 1) if aggressive else rng.randint(1, SPREAD_TICKS)
            tif = TimeInForce.IOC if roll < 0.50 else TimeInForce.GTC
            qty = rng.randint(min_lots, 5 * min_lots)
            price = mid - side.sign * offset
            apply(
                PlaceOrder(
                    account, symbol, side, OrderType.LIMIT, qty, price, tif, False, f"l{ts}", ts
                )
            )
        if ts % 1_000 == 0:
            apply(UpdateMarkPrice(symbol, mid + rng.randint(-20, 20), ts))
    return commands


def _ticks(spec: SymbolSpec) -> int:
    ticks = spec.ticks(spec.reference_price)
    assert ticks is not None
    return ticks


def _min_lots(spec: SymbolSpec) -> int:
    """The fewest lots whose notional near the mid clears the market-order minimum."""
    lot_value = _ticks(spec) * 95 // 100 * spec.cash_per_tick_lot
    return -(-to_cash(spec.min_notional) // lot_value)


class BareBook:
    """The floor: the same call per command, doing only a dict insert and a deque append."""

    def __init__(self) -> None:
        self.index: dict[int, Command] = {}
        self.queue: deque[Command] = deque()

    def handle(self, command: Command) -> None:
        self.index[len(self.index)] = command
        self.queue.append(command)


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    symbols = SymbolTable.load()
    commands = record(symbols, count, seed=7)
    engines: list[Engine] = []

    def run_engine() -> None:
        engine = Engine(symbols, LEVERAGE)
        engines.append(engine)
        handle = engine.handle
        for command in commands:
            handle(command)

    def book_changes_share() -> tuple[float, float]:
        """Seconds in `handle` and in `book_changes`, timed round by round in the same run,
        so the machine's load weighs on both alike."""
        engine = Engine(symbols, LEVERAGE)
        handle, book_changes = engine.handle, engine.book_changes
        handling = reading = 0.0
        for start in range(0, len(commands), BATCH):
            began = time.perf_counter()
            events = []
            for command in commands[start : start + BATCH]:
                events += handle(command)[0]
            handled = time.perf_counter()
            book_changes(events)
            handling += handled - began
            reading += time.perf_counter() - handled
        return handling, reading

    def run_baseline() -> None:
        handle = BareBook().handle
        for command in commands:
            handle(command)

    engine_s = best_of(ROUNDS, run_engine)
    handling_s, reading_s = min((book_changes_share() for _ in range(ROUNDS)), key=sum)
    baseline_s = best_of(ROUNDS, run_baseline)
    engine = engines[-1]
    levels = [
        len(side) for spec in symbols.symbols for side in engine.depth(spec.symbol, 10**6)[1:]
    ]
    n = len(commands)
    balanced = engine.audit().balanced
    print(f"engine_matching: {n:,} commands (orders, cancels, marks), best of {ROUNDS} runs")
    print(f"  engine    {n / engine_s:>12,.0f} commands/s   {engine_s / n * 1e6:6.2f} µs each")
    print(f"  floor     {n / baseline_s:>12,.0f} commands/s   {baseline_s / n * 1e6:6.2f} µs each")
    print(f"  ratio     {engine_s / baseline_s:>12.1f}x the floor")
    print(
        f"  book changes read every {BATCH} commands: {reading_s / n * 1e6:.2f} µs a command,"
        f" {reading_s / handling_s:.1%} of the engine's own time"
    )
    print(f"  end state: {sum(levels)} price levels resting; audit balanced: {balanced}")


if __name__ == "__main__":
    main()
