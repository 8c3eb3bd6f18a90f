"""Feed listeners: what a trader watching the WebSocket streams sees, and how late.

One listener (a single user in the whole run, so no event is counted twice) subscribes to the
combined market stream of the liquidation feed (`!forceOrder@arr`) and each symbol's
`<symbol>@markPrice@1s`, and to the user data stream of every probe account (by listenKey).
For each event it records receive time − the event time the venue stamped (`E`): liquidations
in the `feed` series per symbol, mark prices in `mark_price` per symbol, user data in
`user_data`. Marks seen on the feed also update the process's marks, as a bot's would.

Against the mock it also follows the truth counter of liquidations, so the report can say how
many the feed did not show (completeness, see `feedwatch.py`).

websocket-client is a blocking library; Locust monkey-patches sockets with gevent, so each
connection blocks only its own greenlet. A connection that fails or drops is opened again with
a growing pause, for as long as the run lasts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

import gevent
import orjson
import websocket
from gevent.pool import Group
from locust import FastHttpUser, constant, task

from loadtests.feedwatch import FEED, record_event, record_liquidations
from loadtests.users.client import Call, ExchangeClient, Security, Sender
from loadtests.users.context import LoadContext
from loadtests.users.paced import load_context

log = logging.getLogger(__name__)

MARK_PRICE = "mark_price"
USER_DATA = "user_data"
RECV_TIMEOUT_S = 1.0
"""How long a receive blocks before the listener checks whether the run is still on."""
RECONNECT_S = (0.5, 8.0)
"""First and longest pause before reconnecting."""
LISTEN_KEY = "/fapi/v1/listenKey"
TRUTH = "/stampede/liquidations"
TRUTH_POLL_S = 1.0
KEEPALIVE_S = 30 * 60
"""Binance expires a listen key an hour after its last keepalive."""


def market_streams(symbols: Iterable[str]) -> str:
    return "/".join(["!forceOrder@arr", *(f"{symbol.lower()}@markPrice@1s" for symbol in symbols)])


def stream_events(raw: str | bytes) -> list[dict[str, Any]]:
    """The events in one WebSocket message, raw or combined (`{"stream", "data"}`), one event
    or an array of them; anything else in the message (answers to requests) is left out."""
    payload = orjson.loads(raw)
    if isinstance(payload, dict) and "stream" in payload and "data" in payload:
        payload = payload["data"]
    return [
        event
        for event in (payload if isinstance(payload, list) else (payload,))
        if isinstance(event, dict)
    ]


class FeedRecorder:
    """Records each feed message into the run's metrics."""

    def __init__(self, load: LoadContext) -> None:
        self._load = load

    def message(self, raw: str | bytes, received_at: float) -> None:
        for event in stream_events(raw):
            self.event(event, received_at)

    def event(self, event: dict[str, Any], received_at: float) -> None:
        kind, stamp = event.get("e"), event.get("E")
        if not isinstance(kind, str) or not isinstance(stamp, int):
            return
        if kind == "forceOrder":
            series, symbol = FEED, event["o"]["s"]
        elif kind == "markPriceUpdate":
            series, symbol = MARK_PRICE, event["s"]
            self._load.market.update_mark(symbol, Decimal(event["p"]))
        else:
            series, symbol = USER_DATA, None
        tally = self._load.tally(series, received_at, symbol)
        record_event(tally, event_time_ms=stamp, received_at=received_at)


def liquidation_counts(body: Mapping[str, Any]) -> dict[str, int]:
    """Liquidations per symbol from an answer of the truth counter."""
    return {symbol: int(each["count"]) for symbol, each in body.get("symbols", {}).items()}


class TruthCounter:
    """How many liquidations really happened, per symbol, from the mock's truth counter
    (`GET /stampede/liquidations`): the denominator of the feed's completeness. Each poll's
    increase counts in the step it was read in; what happened before the run is the baseline.
    A target without the counter is asked once."""

    def __init__(
        self,
        client: Sender,
        load: LoadContext,
        *,
        sleep: Callable[[float], None] = gevent.sleep,
    ) -> None:
        self._client = client
        self._load = load
        self._sleep = sleep
        self._seen: dict[str, int] | None = None

    def run(self) -> None:
        load = self._load
        while load.running(load.clock()):
            if not self.poll():
                log.info("the target has no liquidation truth counter; completeness is unknown")
                return
            self._sleep(TRUTH_POLL_S)

    def poll(self) -> bool:
        """Read the counter and record what grew; False when the target has none."""
        reply = self._client.send(Call("truth:liquidations", "GET", TRUTH))
        if reply.status in (404, 405):
            return False
        if not reply.ok:
            return True
        counts = liquidation_counts(reply.json())
        at = self._load.clock()
        if self._seen is not None and at >= self._load.plan.origin:
            for symbol, count in counts.items():
                grown = count - self._seen.get(symbol, 0)
                if grown > 0:
                    record_liquidations(self._load.tally(FEED, at, symbol), grown)
        self._seen = counts
        return True


class StreamListener:
    """Keeps one WebSocket connection open while `running()` and hands each message on."""

    def __init__(
        self,
        url: str,
        on_message: Callable[[str | bytes, float], None],
        running: Callable[[], bool],
        *,
        connect: Callable[..., Any] = websocket.create_connection,
        sleep: Callable[[float], None] = gevent.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self._on_message = on_message
        self._running = running
        self._connect = connect
        self._sleep = sleep
        self._clock = clock
        self.connections = 0

    def run(self) -> None:
        pause = RECONNECT_S[0]
        while self._running():
            try:
                connection = self._connect(self.url, timeout=RECV_TIMEOUT_S)
            except (websocket.WebSocketException, OSError) as exc:
                if self.connections == 0 and pause == RECONNECT_S[0]:
                    log.warning("cannot open the feed %s: %s; retrying", self.url, exc)
                self._sleep(pause)
                pause = min(pause * 2, RECONNECT_S[1])
                continue
            self.connections += 1
            pause = RECONNECT_S[0]
            try:
                self._receive(connection)
            finally:
                connection.close()

    def _receive(self, connection: Any) -> None:
        while self._running():
            try:
                message = connection.recv()
            except websocket.WebSocketTimeoutException:
                continue
            except (websocket.WebSocketException, OSError) as exc:
                log.info("feed %s dropped (%s); reconnecting", self.url, exc)
                return
            if message:
                self._on_message(message, self._clock())


class FeedUser(FastHttpUser):
    """The run's one feed listener (the shape starts exactly one)."""

    wait_time = constant(1)

    def on_start(self) -> None:
        self.listeners = Group()  # before anything that can stop the user: on_stop kills it
        load = load_context(self)
        recorder = FeedRecorder(load)

        def running() -> bool:
            return load.running(load.clock())

        base = load.plan.ws_host
        urls = [f"{base}/stream?streams={market_streams(load.market.symbols)}"]
        for account in load.plan.accounts.probes:
            client = ExchangeClient(self.client, account=account)
            key = self._listen_key(client, "POST")
            if key is not None:
                urls.append(f"{base}/ws/{key}")
                self.listeners.spawn(self._keep_alive, client, running)
        for url in urls:
            self.listeners.spawn(StreamListener(url, recorder.message, running).run)
        self.listeners.spawn(TruthCounter(ExchangeClient(self.client), load).run)

    def _listen_key(self, client: ExchangeClient, method: str) -> str | None:
        reply = client.send(Call("listenKey", method, LISTEN_KEY, security=Security.API_KEY))
        if not reply.ok:
            name = client.account.name if client.account else "?"
            log.warning("no user data stream for account %s: HTTP %s", name, reply.status)
            return None
        key: str = reply.json()["listenKey"]
        return key

    def _keep_alive(self, client: ExchangeClient, running: Callable[[], bool]) -> None:
        while running():
            gevent.sleep(KEEPALIVE_S)
            self._listen_key(client, "PUT")

    def on_stop(self) -> None:
        self.listeners.kill(block=False)

    @task
    def watch(self) -> None:
        """The listeners run in their own greenlets; the user only lives as long as they should."""
