"""Domain vocabulary shared by every part of the exchange.

Prices and sizes never travel as floats inside the exchange: a price is an integer number of
ticks, a size an integer number of lots (both per symbol, see `symbols.py`), and money an integer
number of `CASH_SCALE` units of the margin asset. Exact integers are what make conservation
checkable to the last unit.
"""

from __future__ import annotations

from enum import StrEnum
from typing import NewType

AccountId = NewType("AccountId", int)
OrderId = NewType("OrderId", int)
TradeId = NewType("TradeId", int)

Ticks = int
"""A price as an integer count of the symbol's tick size."""
Lots = int
"""A size as an integer count of the symbol's step size; signed where it is a position."""
Cash = int
"""Money in units of 1 / CASH_SCALE of the margin asset (USDT)."""
Millis = int
"""A wall-clock time in milliseconds since the epoch, as Binance sends it."""

CASH_SCALE = 10**8
PPM = 1_000_000
"""Rates (fees, margin ratios) are integers in parts per million."""


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        return 1 if self is Side.BUY else -1

    @property
    def opposite(self) -> Side:
        return Side.SELL if self is Side.BUY else Side.BUY


class OrderType(StrEnum):
    LIMIT = "LIMIT"
    MARKET = "MARKET"
    LIQUIDATION = "LIQUIDATION"


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTX = "GTX"
    """Post-only: rejected instead of taking liquidity."""


class OrderStatus(StrEnum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


ADL_CLIENT_ORDER_ID = "adl_autoclose"
"""The client order id Binance shows on an auto-deleveraging's order."""
OPEN_STATUSES = frozenset({OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED})
"""Statuses of an order that still rests in the book."""
