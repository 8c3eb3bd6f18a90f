"""What does keeping a local book from the depth stream cost a load generator? One process, one
symbol, 5,000 chained `depthUpdate` messages (ten changed levels a side, a thousand-level book),
against the bare baseline any stream listener pays:

- `parse only`: `orjson.loads` of each message;
- `follow`: `DepthFollower.message` as a market-data process runs it: parse, apply to the
  local book, record the lag into the step's tally;
- `compare top, book moved`: a REST depth read's best bid and ask against the local book's,
  recorded, the book having changed since the last read (its top is found again);
- `compare top, book still`: the same between two events (the top found before is kept).

It prints microseconds per message (or read), the ratio of each to parsing alone, and the share
of one core a process pays to follow two symbols at Binance's 10 events a second each.

Run: .venv/bin/python benchmarks/depth_follow.py
"""

from __future__ import annotations

import random
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from harness import best_of
from rich.console import Console
from rich.table import Table

from loadtests.accounts import seeded_accounts, split_probes
from loadtests.depthwatch import DEPTH, Top, record_top
from loadtests.metrics import Outcome
from loadtests.options import HarnessOptions, RunPlan
from loadtests.profiles import load_profile
from loadtests.users.client import Call, Reply
from loadtests.users.context import LoadContext
from loadtests.users.depth import DepthFollower
from loadtests.users.market import Connection, Market, SymbolRules

EVENTS = 5_000
LEVELS = 1_000
CHANGED = 10
ROUNDS = 3
TICK = Decimal("0.1")
EVENTS_PER_S = 2 * 10
"""Two symbols at `@depth@100ms`."""


def _levels(rng: random.Random, base: int, sign: int) -> list[list[str]]:
    return [
        [str(Decimal(base + sign * rng.randrange(LEVELS)) * TICK), str(rng.randrange(0, 5))]
        for _ in range(CHANGED)
    ]


def messages(now_ms: int) -> tuple[dict[str, Any], list[bytes]]:
    rng = random.Random(7)
    snapshot = {
        "lastUpdateId": 0,
        "bids": [[str(Decimal(1_000_000 - n) * TICK), "1"] for n in range(LEVELS)],
        "asks": [[str(Decimal(1_000_001 + n) * TICK), "1"] for n in range(LEVELS)],
    }
    raw = [
        orjson.dumps(
            {
                "e": "depthUpdate",
                "E": now_ms,
                "T": now_ms,
                "s": "BTCUSDT",
                "U": n,
                "u": n,
                "pu": n - 1,
                "b": _levels(rng, 1_000_000, -1),
                "a": _levels(rng, 1_000_001, 1),
            }
        )
        for n in range(1, EVENTS + 1)
    ]
    return snapshot, raw


class Snapshot:
    """The venue's answer to the one snapshot call a follower makes here."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = orjson.dumps(body)

    def send(self, call: Call) -> Reply:
        return Reply(200, Outcome.SUCCESS, self.body, {})


def context() -> LoadContext:
    profile = load_profile("step-ramp")
    plan = RunPlan(
        options=HarnessOptions(profile=profile.name, symbols=("BTCUSDT",)),
        profile=profile,
        host="http://127.0.0.1:1",
        ws_host="ws://127.0.0.1:1",
        origin=time.time(),
        workers=1,
        accounts=split_probes(seeded_accounts("bench", 4), 1),
        run_dir=Path("unused"),
    )
    rules = SymbolRules("BTCUSDT", TICK, Decimal("0.001"), Decimal("0.001"), Decimal(100))
    market = Market({"BTCUSDT": rules}, {"BTCUSDT": Decimal(100_000)})
    return LoadContext(plan, Connection(market, clock_offset_ms=0))


def main() -> None:
    now = time.time()
    snapshot, raw = messages(round(now * 1000))

    def parse() -> None:
        for message in raw:
            orjson.loads(message)

    def follow() -> None:
        follower = DepthFollower("BTCUSDT", context(), Snapshot(snapshot), spawn=lambda job: job())
        for message in raw:
            follower.message(message, now)

    load = context()
    follower = DepthFollower("BTCUSDT", load, Snapshot(snapshot), spawn=lambda job: job())
    for message in raw:
        follower.message(message, now)
    rest = Top(Decimal("100000.0"), Decimal("100000.1"))

    def compare(moved: bool) -> None:
        for n in range(EVENTS):
            if moved:
                follower.book.update_id = n  # as if an event had come in
            local = follower.top()
            assert local is not None
            record_top(load.tally(DEPTH, now, "BTCUSDT"), local, rest, TICK)

    base = best_of(ROUNDS, parse) / EVENTS * 1e6
    table = Table(title="per message (or REST read), one symbol")
    for column in ("path", "µs", "× parse only", "one core at 20 a second"):
        table.add_column(column, justify="right")
    paths = (
        ("follow", follow),
        ("compare top, book moved", lambda: compare(moved=True)),
        ("compare top, book still", lambda: compare(moved=False)),
    )
    table.add_row("parse only", f"{base:.1f}", "1.0", f"{base * EVENTS_PER_S / 1e4:.3f}%")
    for name, run in paths:
        us = best_of(ROUNDS, run) / EVENTS * 1e6
        table.add_row(name, f"{us:.1f}", f"{us / base:.1f}", f"{us * EVENTS_PER_S / 1e4:.3f}%")
    Console().print(table)


if __name__ == "__main__":
    main()
