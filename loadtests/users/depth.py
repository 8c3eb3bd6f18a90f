"""Local order books, kept from the diff depth stream as a real client keeps them: one per
symbol per load-generating process, shared by its market-data users (one connection per
symbol, not per user: the generator's CPU goes to the load).

Each book follows `<symbol>@depth@100ms` on its own connection (`StreamListener`: reconnects
with a growing pause) and rebuilds from `GET /fapi/v1/depth?limit=1000` whenever it needs a
snapshot: at the start, after a gap, after a reconnection. The snapshot is fetched in a
greenlet of its own while the listener buffers the events meanwhile, as Binance's procedure
says. What it measures goes to the `depth_stream` series (see `depthwatch.py`); the market-data
users compare their REST depth reads with its top (`top`).
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import gevent

from loadtests.depthwatch import DEPTH, Top, record_depth_event, record_resync
from loadtests.localbook import LocalBook, Outcome
from loadtests.users.client import Call, Sender
from loadtests.users.context import LoadContext
from loadtests.users.feeds import RECONNECT_S, StreamListener, stream_events

log = logging.getLogger(__name__)

SNAPSHOT_LIMIT = "1000"
"""What Binance's local-book procedure asks for (weight 20)."""
SNAPSHOT = "depth:snapshot"


def depth_stream(symbol: str) -> str:
    return f"{symbol.lower()}@depth@100ms"


class DepthFollower:
    """One symbol's local book and what keeping it costs."""

    def __init__(
        self,
        symbol: str,
        load: LoadContext,
        client: Sender,
        *,
        sleep: Callable[[float], None] = gevent.sleep,
        spawn: Callable[[Callable[[], None]], object] = gevent.spawn,
    ) -> None:
        self.symbol = symbol
        self.book = LocalBook()
        self._load = load
        self._client = client
        self._sleep = sleep
        self._spawn = spawn
        self._snapshot = Call(
            SNAPSHOT, "GET", "/fapi/v1/depth", (("symbol", symbol), ("limit", SNAPSHOT_LIMIT))
        )
        self._fetching = False
        self._top: tuple[int | None, Top | None] = (None, None)
        """The top as of an update id: reads between two events do not walk the book again."""
        self.snapshots = 0

    def running(self) -> bool:
        return self._load.running(self._load.clock())

    def message(self, raw: str | bytes, received_at: float) -> None:
        for event in stream_events(raw):
            if event.get("e") == "depthUpdate" and isinstance(event.get("E"), int):
                self.event(event, received_at)

    def event(self, event: Mapping[str, Any], received_at: float) -> None:
        in_step = self.book.synced
        outcome = self.book.on_event(event)
        tally = self._load.tally(DEPTH, received_at, self.symbol)
        gap = in_step and outcome is Outcome.GAP
        record_depth_event(tally, event_time_ms=event["E"], received_at=received_at, gap=gap)
        if self.book.needs_snapshot and not self._fetching:
            self._fetching = True
            self._spawn(self.resync)

    def resync(self) -> None:
        """Fetch snapshots until the book holds one (or the run ends). A failed fetch, or a
        snapshot older than the stream (a REST book behind it), is tried again after a growing
        pause: a venue whose REST lags is not asked for a heavy snapshot in a tight loop."""
        pause = RECONNECT_S[0]
        try:
            while self.book.needs_snapshot and self.running():
                reply = self._client.send(self._snapshot)
                if reply.ok:
                    if self.snapshots:
                        record_resync(self._load.tally(DEPTH, self._load.clock(), self.symbol))
                    self.snapshots += 1
                    self.book.on_snapshot(reply.json())
                    if not self.book.needs_snapshot:
                        return
                self._sleep(pause)
                pause = min(pause * 2, RECONNECT_S[1])
        finally:
            self._fetching = False

    def top(self) -> Top | None:
        """The book's best bid and ask; None while it is being rebuilt."""
        book = self.book
        if not book.synced:
            return None
        at, top = self._top
        if top is None or at != book.update_id:
            top = Top(max(book.bids) if book.bids else None, min(book.asks) if book.asks else None)
            self._top = (book.update_id, top)
        return top


_followers: weakref.WeakKeyDictionary[LoadContext, dict[str, DepthFollower]] = (
    weakref.WeakKeyDictionary()
)


def depth_followers(load: LoadContext, client: Sender) -> dict[str, DepthFollower]:
    """This process's local books, by symbol: started by the first market-data user to ask,
    each on its own connection for as long as the run lasts."""
    followers = _followers.get(load)
    if followers is None:
        followers = _followers[load] = {}
        for symbol in load.market.symbols:
            follower = followers[symbol] = DepthFollower(symbol, load, client)
            url = f"{load.plan.ws_host}/ws/{depth_stream(symbol)}"
            gevent.spawn(StreamListener(url, follower.message, follower.running).run)
    return followers
