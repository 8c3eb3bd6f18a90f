"""Market-data readers: the public reads of a surge (the `market_data` class): order book depth,
24-hour tickers and premium index (mark price and funding), per symbol.

Their premiumIndex answers also keep the process's marks current, so traders price their
orders off the market as it moves through shocks.
"""

from __future__ import annotations

from decimal import Decimal

from loadtests.profiles import RequestClass
from loadtests.users.client import Call, Reply
from loadtests.users.paced import PacedUser

DEPTH_LIMIT = "20"
"""Weight 2 on Binance: what a bot that watches the touch asks for."""
PREMIUM_INDEX = "premiumIndex"


def market_calls(symbol: str) -> tuple[Call, ...]:
    return (
        Call("depth", "GET", "/fapi/v1/depth", (("symbol", symbol), ("limit", DEPTH_LIMIT))),
        Call("ticker/24hr", "GET", "/fapi/v1/ticker/24hr", (("symbol", symbol),)),
        Call(PREMIUM_INDEX, "GET", "/fapi/v1/premiumIndex", (("symbol", symbol),)),
    )


class MarketDataUser(PacedUser):
    request_class = RequestClass.MARKET_DATA

    def on_start(self) -> None:
        super().on_start()
        self.calls = tuple(
            call for symbol in self.load.market.symbols for call in market_calls(symbol)
        )

    def next_call(self) -> Call:
        return self.rng.choice(self.calls)

    def answered(self, call: Call, reply: Reply) -> None:
        if call.name == PREMIUM_INDEX:
            index = reply.json()
            self.load.market.update_mark(index["symbol"], Decimal(index["markPrice"]))
