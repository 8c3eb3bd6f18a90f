"""`stampede demo`: the embedded exchange, traded by an unmodified ccxt client, end to end.

Starts a private Redis and the mock on a free loopback port, trades through ccxt exactly as a
bot would against Binance, prints what the exchange reports back, and stops everything.
"""

from __future__ import annotations

import time
from typing import Any

import ccxt
import httpx
from rich.console import Console
from rich.table import Table

from exchange_mock.accounts import AccountBook
from exchange_mock.server import running_exchange
from exchange_mock.settings import Settings

BTC, ETH = "BTC/USDT:USDT", "ETH/USDT:USDT"


def binance_client(base: str, api_key: str, secret: str) -> Any:
    """ccxt's binanceusdm, pointed at `base` by URL overrides only."""
    api = {
        name: f"{base}/fapi/{version}"
        for name, version in (
            ("fapiPublic", "v1"), ("fapiPublicV2", "v2"), ("fapiPublicV3", "v3"),
            ("fapiPrivate", "v1"), ("fapiPrivateV2", "v2"), ("fapiPrivateV3", "v3"),
        )
    }  # fmt: skip
    return ccxt.binanceusdm(
        {"apiKey": api_key, "secret": secret, "urls": {"api": api},
         "options": {"fetchCurrencies": False}}
    )  # fmt: skip


def _wait_for_quotes(base: str, timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        depth = httpx.get(f"{base}/fapi/v1/depth", params={"symbol": "BTCUSDT", "limit": 5})
        if depth.status_code == 200 and depth.json()["asks"]:
            return
        time.sleep(0.1)
    raise RuntimeError("the market makers never quoted")


def run_demo(console: Console) -> None:
    settings = Settings(port=0, accounts=10)
    with console.status("starting Redis and the exchange…"), running_exchange(settings) as server:
        _wait_for_quotes(server.url)
        console.print(f"exchange up at [bold]{server.url}[/bold] (docs at {server.url}/docs)")
        trader = AccountBook.from_settings(settings).traders[0]
        client = binance_client(server.url, trader.api_key, trader.secret)
        client.load_markets()
        ticker = client.fetch_ticker(BTC)
        console.print(
            f"BTC last {ticker['last']}, book {client.fetch_order_book(BTC, 5)['bids'][0]}"
        )
        orders = [
            client.create_order(BTC, "market", "buy", 0.05),
            client.create_order(ETH, "market", "sell", 1.0),
            client.create_order(BTC, "limit", "buy", 0.01, round(ticker["last"] * 0.97, 1)),
        ]
        for order in orders:
            console.print(
                f"{order['type']:6} {order['side']:4} {order['amount']} {order['symbol']}: "
                f"{order['status']} avg {order['average']}"
            )
        client.cancel_order(orders[-1]["id"], BTC)
        time.sleep(0.2)
        table = Table("symbol", "side", "contracts", "entry", "mark", "uPnL")
        for p in client.fetch_positions([BTC, ETH]):
            table.add_row(
                p["symbol"], p["side"], str(p["contracts"]), str(p["entryPrice"]),
                str(p["markPrice"]), f"{p['unrealizedPnl']:.4f}",
            )  # fmt: skip
        console.print(table)
        console.print(f"USDT balance: {client.fetch_balance()['USDT']}")
        audit = httpx.get(f"{server.url}/stampede/audit").json()
        console.print(f"conservation audit: {'passed' if audit['passed'] else audit}")
    console.print("exchange and Redis stopped.")
