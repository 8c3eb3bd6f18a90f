"""In-memory stand-ins for the command bus and the read model, and an app wired with them, so the
API edge can be tested through real HTTP semantics (httpx over ASGI) without Redis or an engine."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from decimal import Decimal
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.api import account, market_data, orders, position_settings, userstream
from exchange_mock.api.context import ApiContext
from exchange_mock.api.errors import install_error_handlers
from exchange_mock.domain.commands import Command
from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.domain.replies import Done, Reply
from exchange_mock.errors import ExchangeError
from exchange_mock.settings import Settings
from exchange_mock.store.bus import CommandBus
from exchange_mock.store.listenkeys import ListenKeys
from exchange_mock.store.readmodel import ReadModel
from exchange_mock.store.views import AccountView, DepthView, MarkView, TickerView
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import (
    AccountId,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)

NOW = 1_700_000_000_000
SYMBOLS = SymbolTable.load()
BTC = SYMBOLS.by_name["BTCUSDT"]
ETH = SYMBOLS.by_name["ETHUSDT"]
ACCOUNTS = AccountBook(
    "api-tests", traders=2, trader_balance=Decimal(1000), makers=0, maker_balance=Decimal(1)
)
TRADER = ACCOUNTS.traders[0]


class FakeBus(CommandBus):
    """Records commands; answers each with the next queued reply (or raises it)."""

    def __init__(self) -> None:
        self.commands: list[Command] = []
        self.replies: list[Reply | ExchangeError] = []

    async def submit(self, command: Command) -> Reply:
        self.commands.append(command)
        reply = self.replies.pop(0) if self.replies else Done()
        if isinstance(reply, ExchangeError):
            raise reply
        return reply


class FakeListenKeys(ListenKeys):
    """Live keys in a set: started keys live until closed."""

    def __init__(self) -> None:
        self.ttl_ms = 3_600_000
        self.live: set[str] = set()

    async def start(self, key: str, account: AccountId) -> None:
        self.live.add(key)

    async def keep_alive(self, key: str) -> bool:
        return key in self.live

    async def close(self, key: str) -> None:
        self.live.discard(key)

    async def remaining_ms(self, key: str) -> int:
        return self.ttl_ms if key in self.live else 0


class FakeReads(ReadModel):
    def __init__(self) -> None:
        self.accounts: dict[AccountId, AccountView] = {}
        self.orders: list[OrderSnapshot] = []
        self.depth_calls: list[tuple[str, int]] = []
        self.depth_view = DepthView(last_update_id=7, time=NOW - 5, bids=[], asks=[])

    async def account(self, account: AccountId) -> AccountView:
        return self.accounts.get(account) or account_view(account)

    async def order(
        self, account: AccountId, order_id: OrderId | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        for snapshot in self.orders:
            if snapshot.account == account and (
                snapshot.order_id == order_id or snapshot.client_order_id == client_order_id
            ):
                return snapshot
        return None

    async def open_orders(self, account: AccountId, symbol: str | None) -> list[OrderSnapshot]:
        return [
            o
            for o in self.orders
            if o.account == account and (symbol is None or o.symbol == symbol)
        ]

    async def depth(self, symbol: str, limit: int) -> DepthView:
        self.depth_calls.append((symbol, limit))
        return self.depth_view

    async def ticker(self, symbol: str) -> TickerView:
        return TickerView(symbol, 1_200_000, 1_190_000, 1_210_000, 1_180_000, 0, 0, 1, 1, 1, 0, NOW)

    async def mark(self, symbol: str) -> MarkView:
        return MarkView(symbol=symbol, price=None, time=0)


def account_view(account: AccountId, **overrides: object) -> AccountView:
    values: dict[str, object] = {
        "account": account,
        "balance": 1000 * 10**8,
        "balance_update_time": NOW - 60_000,
        "positions": {},
        "leverage": {},
        "seq": 10,
        "projected_seq": 12,
        "journal_head": 15,
        "marks": {},
        **overrides,
    }
    return AccountView(**values)  # type: ignore[arg-type]


def snapshot(**overrides: object) -> OrderSnapshot:
    values: dict[str, object] = {
        "order_id": OrderId(42),
        "client_order_id": "my-order",
        "account": TRADER.id,
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "type": OrderType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "price": 1_200_000,
        "qty": 10,
        "executed_qty": 0,
        "cum_quote": 0,
        "status": OrderStatus.NEW,
        "reduce_only": False,
        "time": NOW - 1,
        "update_time": NOW - 1,
        **overrides,
    }
    return OrderSnapshot(**values)  # type: ignore[arg-type]


def make_context(
    bus: CommandBus, reads: ReadModel, clock: Callable[[], int] = lambda: NOW
) -> ApiContext:
    return ApiContext(
        settings=Settings(),
        symbols=SYMBOLS,
        accounts=ACCOUNTS,
        bus=bus,
        reads=reads,
        listen_keys=FakeListenKeys(),
        clock=clock,
    )


def make_app(context: ApiContext) -> FastAPI:
    app = FastAPI()
    app.state.context = context
    install_error_handlers(app)
    for module in (market_data, orders, account, position_settings, userstream):
        app.include_router(module.router)
    return app


def client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://mock")


def signed_query(who: ApiAccount, timestamp: int = NOW, **params: object) -> str:
    """A query string signed as ccxt signs it: urlencoded, then `&signature=`."""
    query = urlencode({**params, "timestamp": timestamp})
    digest = hmac.new(who.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    return f"{query}&signature={digest}"


def key_header(who: ApiAccount = TRADER) -> dict[str, str]:
    return {"X-MBX-APIKEY": who.api_key}
