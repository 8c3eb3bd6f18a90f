"""Market-data readers: the public reads of a surge (the `market_data` class): order book depth,
24-hour tickers and premium index (mark price and funding), per symbol.

Their premiumIndex answers also keep the process's marks current, so traders price their
orders off the market as it moves through shocks. Like a bot, they also keep a local book per
symbol from the diff depth stream (one per process, `users/depth.py`), and each depth answer is
compared with that book's top as it arrives: how stale the streamed book was.
"""

from __future__ import annotations

from decimal import Decimal

from loadtests.depthwatch import DEPTH, Top, record_top
from loadtests.localbook import parse_levels
from loadtests.profiles import RequestClass
from loadtests.users.client import Call, Reply
from loadtests.users.depth import depth_followers
from loadtests.users.paced import PacedUser

DEPTH_LIMIT = "20"
"""Weight 2 on Binance: what a bot that watches the touch asks for."""
PREMIUM_INDEX = "premiumIndex"
DEPTH_READ = "depth"


def market_calls(symbol: str) -> tuple[Call, ...]:
    return (
        Call(DEPTH_READ, "GET", "/fapi/v1/depth", (("symbol", symbol), ("limit", DEPTH_LIMIT))),
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
        self.books = depth_followers(self.load, self.exchange)

    def next_call(self) -> Call:
        return self.rng.choice(self.calls)

    def answered(self, call: Call, reply: Reply) -> None:
        if call.name == PREMIUM_INDEX:
            index = reply.json()
            self.load.market.update_mark(index["symbol"], Decimal(index["markPrice"]))
        elif call.name == DEPTH_READ:
            self.compare_top(dict(call.params)["symbol"], reply.json())

    def compare_top(self, symbol: str, depth: dict[str, list[list[str]]]) -> None:
        """A REST depth answer's top against the local book's now; skipped while the book is
        being rebuilt (its resyncs are counted apart)."""
        local = self.books[symbol].top()
        if local is None:
            return
        bids, asks = parse_levels(depth["bids"][:1]), parse_levels(depth["asks"][:1])
        rest = Top(bids[0][0] if bids else None, asks[0][0] if asks else None)
        load = self.load
        tally = load.tally(DEPTH, load.clock(), symbol)
        record_top(tally, local, rest, load.market.rules[symbol].tick_size)
