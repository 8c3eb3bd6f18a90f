"""The depth diff stream's fan-out: `depthUpdate` messages one API worker delivers to 10 and 100
WebSocket clients of `btcusdt@depth@100ms`, against the same payloads read by one raw Redis
pub/sub subscriber in the same run, with the cost per delivered message beside each.

The payload is a busy window's diff (ten levels a side changed), built by the feed's own
converter; the benchmarked exchange has no market makers, so only these payloads flow on the
stream. What it measures is `feed_fanout.py`'s relay path at the depth stream's message size
and subscriber counts.

Run: .venv/bin/python benchmarks/depth_fanout.py
"""

from __future__ import annotations

import orjson
from feed_fanout import fan_out

from exchange_mock.feeds import payloads, streams
from exchange_mock.symbols import SymbolTable

CLIENTS = (10, 100)
LEVELS = 10
"""Levels changed on each side within one window."""


def depth_payload() -> bytes:
    spec = SymbolTable.load().by_name["BTCUSDT"]
    bids = [(1_224_990 - 10 * n, 1 + n) for n in range(LEVELS)]
    asks = [(1_225_010 + 10 * n, 1 + n) for n in range(LEVELS)]
    update = payloads.depth_update(spec, 1_000_001, 1_000_040, 1_700_000_000_000, bids, asks)
    return orjson.dumps(update)


def main() -> None:
    fan_out(streams.depth("BTCUSDT", 100), depth_payload(), CLIENTS)


if __name__ == "__main__":
    main()
