"""Acknowledged orders/s placed 5 to a `batchOrders` request against the same orders placed one
request each: what a market maker's batching buys when every order of a batch is still its own
command through the pipeline.

Run: .venv/bin/python benchmarks/batch_orders.py
"""

from __future__ import annotations

import asyncio
import json

import httpx
from harness import bench_settings, signed_target
from loadgen import build_request, closed_loop
from rich.console import Console

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.redis_server import EmbeddedRedis
from exchange_mock.server import exchange_process

SECONDS = 5.0
CONNECTIONS = 64
BATCH = 5


def _order(side: str) -> dict[str, str]:
    # No market makers: the book is empty, so each IOC order is accepted, journaled and
    # expires, the whole write path with no position piling up over the run.
    return {
        "symbol": "BTCUSDT", "side": side, "type": "LIMIT", "timeInForce": "IOC",
        "quantity": "0.001", "price": "122500.0",
    }  # fmt: skip


def _single(account: ApiAccount, side: str) -> bytes:
    target = signed_target("/fapi/v1/order", account, **_order(side))
    return build_request("POST", target, "bench", {"X-MBX-APIKEY": account.api_key})


def _batch_target(account: ApiAccount, side: str) -> str:
    orders = json.dumps([_order(side)] * BATCH, separators=(",", ":"))
    return signed_target("/fapi/v1/batchOrders", account, batchOrders=orders)


def main() -> None:
    console = Console()
    with EmbeddedRedis() as redis:
        settings = bench_settings(redis.url)
        with exchange_process(settings):
            book = AccountBook.from_settings(settings)
            sides = ("BUY", "SELL")
            singles = [_single(a, side) for a in book.traders for side in sides]
            batches = [
                build_request("POST", _batch_target(a, side), "bench", {"X-MBX-APIKEY": a.api_key})
                for a in book.traders
                for side in sides
            ]
            # Every slot of a batch must be an order, not an error, for the count to mean acks.
            first = book.traders[0]
            with httpx.Client(base_url=f"http://127.0.0.1:{settings.port}") as http:
                answer = http.post(
                    _batch_target(first, "BUY"), headers={"X-MBX-APIKEY": first.api_key}
                )
            if answer.status_code != 200 or any("code" in slot for slot in answer.json()):
                raise SystemExit(f"a batch was refused: {answer.text}")
            host, port = "127.0.0.1", settings.port
            one = asyncio.run(closed_loop(host, port, singles, CONNECTIONS, SECONDS))
            five = asyncio.run(closed_loop(host, port, batches, CONNECTIONS, SECONDS))
            if one.failed or five.failed:
                raise SystemExit(f"requests failed: {one.statuses} {five.statuses}")
    batched = five.rate * BATCH
    console.print(f"single orders:     {one.rate:8.0f} orders/s")
    console.print(f"batches of {BATCH}:      {batched:8.0f} orders/s ({five.rate:.0f} requests/s)  "
                  f"[bold]ratio to single {batched / one.rate:.2f}[/bold]")  # fmt: skip


if __name__ == "__main__":
    main()
