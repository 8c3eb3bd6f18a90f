"""A randomized, seeded burst of orders from many accounts, and the checks that follow it."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

import httpx
from redis.asyncio import Redis

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.domain.events import OrderAccepted
from exchange_mock.settings import Settings
from exchange_mock.store.audit import AuditReport, audit
from exchange_mock.store.journal import read_journal
from exchange_mock.store.keys import Keys
from tests.integration.signed import SignedClient

SYMBOLS = {"BTCUSDT": (Decimal("0.1"), "0.001"), "ETHUSDT": (Decimal("0.01"), "0.01")}


@dataclass
class BurstResult:
    acknowledged: set[int] = field(default_factory=set)
    acknowledged_at: dict[int, float] = field(default_factory=dict)
    """When each order's acknowledgement arrived (monotonic seconds)."""
    statuses: dict[int, int] = field(default_factory=dict)


async def burst(
    base_url: str,
    traders: Sequence[ApiAccount],
    orders: int,
    concurrency: int = 32,
    seed: int = 1,
    sending: asyncio.Event | None = None,
) -> BurstResult:
    """Send `orders` random orders (market, limit near the touch, cancels) and record outcomes;
    `sending` is set once the burst has read the book and its orders go out.

    Each worker has a client (one connection) of its own: httpx's shared pool spends more time
    assigning requests to connections than the exchange spends answering them."""
    rng = random.Random(seed)
    result = BurstResult()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(orders):
        queue.put_nowait(n)
    mids = {}
    async with httpx.AsyncClient(base_url=base_url) as http:
        for symbol in SYMBOLS:
            params = {"symbol": symbol, "limit": 5}
            depth = (await http.get("/fapi/v1/depth", params=params)).json()
            mids[symbol] = (Decimal(depth["bids"][0][0]) + Decimal(depth["asks"][0][0])) / 2
    if sending is not None:
        sending.set()

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
            await trade(http)

    async def trade(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            queue.get_nowait()
            client = SignedClient(http, rng.choice(traders))
            symbol = rng.choice(list(SYMBOLS))
            tick, qty = SYMBOLS[symbol]
            side = rng.choice(["BUY", "SELL"])
            kind = rng.random()
            params: dict[str, str] = {"symbol": symbol, "side": side, "quantity": qty}
            if kind < 0.4:
                params["type"] = "MARKET"
            else:
                offset = Decimal(rng.uniform(-0.003, 0.003))
                price = (mids[symbol] * (1 + offset) / tick).to_integral_value() * tick
                params |= {"type": "LIMIT", "timeInForce": "GTC", "price": str(price)}
            try:
                response = await client.send("POST", "/fapi/v1/order", **params)
            except httpx.HTTPError:
                result.statuses[-1] = result.statuses.get(-1, 0) + 1
                continue
            result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
            if response.status_code == 200:
                order = response.json()
                result.acknowledged.add(order["orderId"])
                result.acknowledged_at[order["orderId"]] = time.monotonic()
                if params["type"] == "LIMIT" and rng.random() < 0.5:
                    await client.send(
                        "DELETE", "/fapi/v1/order", symbol=symbol, orderId=order["orderId"]
                    )

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return result


async def journaled_order_ids(redis: Redis, keys: Keys) -> list[int]:
    return [
        event.order.order_id
        async for _seq, event in read_journal(redis, keys)
        if isinstance(event, OrderAccepted)
    ]


async def quiet_audit(
    redis: Redis, keys: Keys, accounts: Sequence[ApiAccount], timeout_s: float = 20
) -> AuditReport:
    """The audit at the first moment the read model has caught up with the journal."""
    async with asyncio.timeout(timeout_s):
        while True:
            report = await audit(redis, keys, [a.id for a in accounts])
            if report.quiet:
                return report
            await asyncio.sleep(0.05)


async def check_books(settings: Settings, result: BurstResult, timeout_s: float = 20) -> None:
    """After a burst through a failure: every acknowledged order journaled, none twice; the read
    model caught up; money conserved."""
    keys = Keys(settings.key_prefix)
    redis = Redis.from_url(str(settings.redis_url))
    try:
        accounts = AccountBook.from_settings(settings).accounts
        report = await quiet_audit(redis, keys, accounts, timeout_s)
        journaled = await journaled_order_ids(redis, keys)
    finally:
        await redis.aclose()
    assert result.acknowledged <= set(journaled)
    assert not [i for i, n in Counter(journaled).items() if n > 1]
    assert report.cash_conserved and report.positions_balanced, report
