"""One exception root for the exchange, and Binance's error codes as data.

Every error a client can see leaves the API as HTTP 4xx/5xx with `{"code": -N, "msg": "..."}`;
clients such as ccxt crash on a 4xx body that lacks either key, so nothing else is ever sent.
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    UNKNOWN = -1000
    DISCONNECTED = -1001
    TOO_MANY_REQUESTS = -1003
    TIMEOUT = -1007
    SERVER_BUSY = -1008
    TOO_MANY_ORDERS = -1015
    UNSUPPORTED_OPERATION = -1020
    INVALID_TIMESTAMP = -1021
    START_AFTER_END = -1023
    INVALID_SIGNATURE = -1022
    ILLEGAL_CHARS = -1100
    MANDATORY_PARAM_EMPTY_OR_MALFORMED = -1102
    BAD_PRECISION = -1111
    INVALID_TIF = -1115
    INVALID_ORDER_TYPE = -1116
    INVALID_SIDE = -1117
    BAD_SYMBOL = -1121
    INVALID_INTERVAL = -1120
    INVALID_LISTEN_KEY = -1125
    INVALID_TIME_INTERVAL = -1127
    OPTIONAL_PARAMS_BAD_COMBO = -1128
    INVALID_PARAMETER = -1130
    CANCEL_REJECTED = -2011
    NO_SUCH_ORDER = -2013
    BAD_API_KEY_FMT = -2014
    REJECTED_MBX_KEY = -2015
    MARGIN_NOT_SUFFICIENT = -2019
    REDUCE_ONLY_REJECT = -2022
    MAX_POSITION_AT_LEVERAGE = -2027
    PRICE_LESS_THAN_ZERO = -4001
    PRICE_GREATER_THAN_MAX_PRICE = -4002
    QTY_LESS_THAN_ZERO = -4003
    QTY_LESS_THAN_MIN_QTY = -4004
    QTY_GREATER_THAN_MAX_QTY = -4005
    PRICE_LESS_THAN_MIN_PRICE = -4013
    PRICE_NOT_INCREASED_BY_TICK_SIZE = -4014
    INVALID_CL_ORD_ID_LEN = -4015
    DUPLICATED_CLIENT_ORDER_ID = -4116
    SYMBOL_NOT_TRADING = -4108
    """A dated contract at or past its delivery (or not yet trading)."""
    PRICE_HIGHER_THAN_MULTIPLIER_UP = -4016
    QTY_NOT_INCREASED_BY_STEP_SIZE = -4023
    PRICE_LOWER_THAN_MULTIPLIER_DOWN = -4024
    INVALID_LEVERAGE = -4028
    NO_NEED_TO_CHANGE_MARGIN_TYPE = -4046
    MARGIN_TYPE_WITH_OPEN_ORDERS = -4047
    MARGIN_TYPE_WITH_POSITION = -4048
    NO_NEED_TO_CHANGE_POSITION_SIDE = -4059
    POSITION_SIDE_WITH_OPEN_ORDERS = -4067
    POSITION_SIDE_WITH_POSITION = -4068
    ISOLATED_UNDER_MULTI_ASSETS = -4168
    MIN_NOTIONAL = -4164
    MAX_OPEN_ORDERS = -2025
    FOK_ORDER_REJECT = -5021
    GTX_ORDER_REJECT = -5022


HTTP_STATUS: dict[Code, int] = {
    Code.TIMEOUT: 408,
    Code.TOO_MANY_REQUESTS: 429,
    Code.TOO_MANY_ORDERS: 429,
    Code.SERVER_BUSY: 503,
    Code.DISCONNECTED: 503,
    Code.UNKNOWN: 500,
    Code.BAD_API_KEY_FMT: 401,
    Code.REJECTED_MBX_KEY: 401,
}
"""HTTP status per code where it is not 400."""
OVERLOADED_MSG = (
    "Server is currently overloaded with other requests. Please try again in a few minutes."
)
"""Binance's -1008: the request was refused, not executed."""
DISCONNECTED_MSG = "Internal error; unable to process your request. Please try again."
"""Binance's -1001: the request failed and was not executed; the client may send it again."""


class StampedeError(Exception):
    """Root of every error raised by Stampede's own code."""


class ExchangeError(StampedeError):
    """A request the exchange refuses, carrying Binance's code and message."""

    def __init__(
        self,
        code: Code,
        msg: str,
        http_status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{int(code)} {msg}")
        self.code = code
        self.msg = msg
        self.http_status = http_status if http_status is not None else HTTP_STATUS.get(code, 400)
        self.headers = headers or {}
        """Sent with the error, e.g. `Retry-After` on 429/418."""

    def body(self) -> dict[str, int | str]:
        return {"code": int(self.code), "msg": self.msg}


class ConfigError(StampedeError):
    """Settings or data files that cannot describe a working exchange."""
