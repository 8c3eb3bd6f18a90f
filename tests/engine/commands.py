"""Commands and checks the engine's tests build again and again: cash in USDT, orders on a
contract, marks, and "this command must succeed"."""

from __future__ import annotations

from decimal import Decimal

from exchange_mock.domain.commands import Command, PlaceOrder, UpdateMarkPrice
from exchange_mock.domain.events import Event
from exchange_mock.domain.replies import Done
from exchange_mock.engine import Engine
from exchange_mock.symbols import to_cash
from exchange_mock.types import AccountId, OrderType, Side, TimeInForce

BTC, ETH = "BTCUSDT", "ETHUSDT"


def usdt(amount: str | int) -> int:
    return to_cash(Decimal(amount))


def ok(engine: Engine, command: Command) -> list[Event]:
    """The events of a command the engine must accept."""
    events, reply = engine.handle(command)
    assert isinstance(reply, Done), reply
    return events


def limit(account: AccountId, side: Side, qty: int, price: int, symbol: str = BTC) -> PlaceOrder:
    return PlaceOrder(
        account, symbol, side, OrderType.LIMIT, qty, price, TimeInForce.GTC, False, "", 1
    )


def market(account: AccountId, side: Side, qty: int, symbol: str = BTC) -> PlaceOrder:
    return PlaceOrder(account, symbol, side, OrderType.MARKET, qty, None, None, False, "", 1)


def mark(price: int, symbol: str = BTC, ts: int = 5) -> UpdateMarkPrice:
    return UpdateMarkPrice(symbol, price, ts)
