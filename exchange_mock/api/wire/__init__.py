"""Explicit converters from the engine's snapshots and the read model's views to Binance's JSON,
one module per resource: orders, positions, accounts (with balances), collateral, the account's
configuration, exchangeInfo and market data.

This package is the one place Binance's field names live. Decimals leave as strings, ids as
integers, times in milliseconds. Where Binance serves several versions of one resource
(positionRisk, account), every field is computed once and each version is a table of the field
names it sends (`response.project` picks them), so the versions cannot drift apart in how they
compute a value.
"""

from exchange_mock.api.wire import (
    accounts,
    collateral,
    config,
    exchange_info,
    market_data,
    orders,
    positions,
    response,
)
from exchange_mock.api.wire.response import Version, json_response

__all__ = [
    "Version",
    "accounts",
    "collateral",
    "config",
    "exchange_info",
    "json_response",
    "market_data",
    "orders",
    "positions",
    "response",
]
