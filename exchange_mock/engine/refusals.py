"""What a command handler returns, and the refusals several handlers share (Binance's codes and
messages). A refused command returns no events and changes nothing."""

from __future__ import annotations

from exchange_mock.domain.events import Event
from exchange_mock.domain.replies import Rejected, Reply
from exchange_mock.errors import Code

Outcome = tuple[list[Event], Reply]

INVALID_SYMBOL = Rejected(Code.BAD_SYMBOL, "Invalid symbol.")
NOT_TRADING = Rejected(
    Code.SYMBOL_NOT_TRADING,
    "Symbol is on delivering or delivered or settle or closed or pre-trading.",
)
BAD_AMOUNT = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'amount' is not valid.")
BAD_ASSET = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'asset' is not valid.")
BAD_PRICE = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'price' is not valid.")
