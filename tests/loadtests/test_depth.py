"""A process's local book on the diff depth stream: snapshot, diffs, a resync on a gap, and
what each costs, counted in the `depth_stream` series."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

from loadtests.depthwatch import DEPTH, Top, depth_stats
from loadtests.metrics import Outcome
from loadtests.users.client import Call, Reply
from loadtests.users.context import LoadContext
from loadtests.users.depth import SNAPSHOT_LIMIT, DepthFollower, depth_stream
from loadtests.users.feeds import RECONNECT_S, StreamListener
from tests.loadtests.fakes import FakeClock, btc_connection, two_phase_plan

RECEIVED = 1005.0
"""Five seconds into the first step of the plan."""
BOUND_S = 5.0


def _event(first: int, last: int, previous: int, **sides: list[list[str]]) -> dict[str, Any]:
    return {
        "e": "depthUpdate", "E": int(RECEIVED * 1000) - 30, "T": 0, "s": "BTCUSDT",
        "U": first, "u": last, "pu": previous, "b": sides.get("b", []), "a": sides.get("a", []),
    }  # fmt: skip


def _snapshot(last: int, bids: list[list[str]], asks: list[list[str]]) -> Reply:
    body = {"lastUpdateId": last, "E": 0, "T": 0, "bids": bids, "asks": asks}
    return Reply(200, Outcome.SUCCESS, orjson.dumps(body), {})


FAILED = Reply(503, Outcome.UNAVAILABLE_503, b"", {})

EVENTS = [
    _event(1, 1, 0, b=[["100.0", "2"]]),
    _event(2, 2, 1, a=[["100.1", "1"]]),
    # 3 never arrives: the stream skipped it.
    _event(4, 4, 3, b=[["99.9", "1"]]),
    _event(5, 5, 4, a=[["100.1", "0"]]),
]
SNAPSHOTS = [
    _snapshot(1, [["100.0", "1"]], [["100.2", "1"]]),
    _snapshot(4, [["100.0", "2"], ["99.9", "1"]], [["100.1", "1"], ["100.2", "1"]]),
]


class Venue:
    """Answers snapshot calls in order, and keeps them."""

    def __init__(self, answers: list[Reply]) -> None:
        self.answers = answers
        self.calls: list[Call] = []

    def send(self, call: Call) -> Reply:
        self.calls.append(call)
        return self.answers.pop(0)


def _run_now(job: Callable[[], None]) -> None:
    job()


def _follower(venue: Venue, load: LoadContext, clock: FakeClock) -> DepthFollower:
    return DepthFollower("BTCUSDT", load, venue, sleep=clock.sleep, spawn=_run_now)


def test_a_book_joins_its_snapshot_and_follows_an_unbroken_chain() -> None:
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=FakeClock(RECEIVED))
    venue = Venue(SNAPSHOTS[:1])
    follower = _follower(venue, load, FakeClock())
    assert follower.top() is None
    follower.message(orjson.dumps(EVENTS[0]), RECEIVED)
    assert [dict(call.params) for call in venue.calls] == [
        {"symbol": "BTCUSDT", "limit": SNAPSHOT_LIMIT}
    ]
    assert follower.top() == Top(Decimal("100.0"), Decimal("100.2"))
    follower.message(orjson.dumps(EVENTS[1]), RECEIVED)
    assert follower.top() == Top(Decimal("100.0"), Decimal("100.1"))
    stats = depth_stats([load.tally(DEPTH, RECEIVED, "BTCUSDT")])
    assert (stats.events, stats.gaps, stats.resyncs) == (2, 0, 0)
    assert stats.lag_ms is not None and 29 <= stats.lag_ms.max <= 31


def test_a_skipped_update_is_a_gap_and_the_book_is_rebuilt_from_a_new_snapshot() -> None:
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=FakeClock(RECEIVED))
    follower = _follower(Venue(list(SNAPSHOTS)), load, FakeClock())
    for event in EVENTS:
        follower.message(orjson.dumps(event), RECEIVED)
    stats = depth_stats([load.tally(DEPTH, RECEIVED, "BTCUSDT")])
    assert (stats.events, stats.gaps, stats.resyncs) == (4, 1, 1)
    assert follower.book.update_id == 5
    assert follower.top() == Top(Decimal("100.0"), Decimal("100.2"))


def test_a_failed_snapshot_is_asked_again_after_a_growing_pause() -> None:
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=FakeClock(RECEIVED))
    clock = FakeClock()
    follower = _follower(Venue([FAILED, FAILED, SNAPSHOTS[0]]), load, clock)
    follower.message(orjson.dumps(EVENTS[0]), RECEIVED)
    assert clock.sleeps == [RECONNECT_S[0], RECONNECT_S[0] * 2]
    assert follower.top() == Top(Decimal("100.0"), Decimal("100.2"))
    # The first snapshot that arrived is not a resync, however many tries it took.
    assert depth_stats([load.tally(DEPTH, RECEIVED, "BTCUSDT")]).resyncs == 0


def test_a_snapshot_older_than_the_stream_is_asked_again_after_a_pause() -> None:
    """The first event buffered is update 2: a snapshot at 0 cannot join it, one at 2 can."""
    load = LoadContext(two_phase_plan(origin=1000), btc_connection(), clock=FakeClock(RECEIVED))
    clock = FakeClock()
    behind = _snapshot(0, [["100.0", "1"]], [["100.2", "1"]])
    follower = _follower(
        Venue([behind, _snapshot(2, [["99.9", "1"]], [["100.1", "1"]])]), load, clock
    )
    follower.message(orjson.dumps(EVENTS[1]), RECEIVED)
    assert clock.sleeps == [RECONNECT_S[0]]
    assert follower.snapshots == 2 and follower.top() == Top(Decimal("99.9"), Decimal("100.1"))
    stats = depth_stats([load.tally(DEPTH, RECEIVED, "BTCUSDT")])
    assert (stats.gaps, stats.resyncs) == (0, 1)


def test_the_stream_is_binances_diff_stream_at_100ms() -> None:
    assert depth_stream("BTCUSDT") == "btcusdt@depth@100ms"


@pytest.fixture
def skipping_stream() -> Iterator[str]:
    """A WebSocket server on loopback whose depth stream skips update 3, then stays open."""

    def handler(connection: ServerConnection) -> None:
        for event in EVENTS:
            connection.send(orjson.dumps(event).decode())
        try:
            connection.recv(timeout=BOUND_S)
        except (ConnectionClosed, TimeoutError):
            return

    server: Server
    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        port = server.socket.getsockname()[1]
        yield f"ws://127.0.0.1:{port}/ws/{depth_stream('BTCUSDT')}"
        server.shutdown()
        thread.join(BOUND_S)


def test_over_a_real_connection_a_skipped_update_is_counted_and_resynced(
    skipping_stream: str,
) -> None:
    now = time.time()
    load = LoadContext(two_phase_plan(origin=now - 1), btc_connection())
    follower = _follower(Venue(list(SNAPSHOTS)), load, FakeClock())
    deadline = time.monotonic() + BOUND_S
    listener = StreamListener(
        skipping_stream,
        follower.message,
        running=lambda: follower.book.update_id != 5 and time.monotonic() < deadline,
        sleep=time.sleep,
    )
    listener.run()
    stats = depth_stats(tally for _, tally in load.metrics.items())
    assert (stats.events, stats.gaps, stats.resyncs) == (4, 1, 1)
    assert follower.top() == Top(Decimal("100.0"), Decimal("100.2"))
    assert listener.connections == 1
