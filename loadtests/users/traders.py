"""Traders: the order traffic of a surge (the `orders` class).

Each trader acts for one account and mixes what traders do when prices move: new limit orders
that rest away from the touch, cancels of its own resting orders, market orders, and reduce-only
market orders that close what it holds. It learns from its answers which orders rest and roughly
what it holds; fills of its resting orders by others go unseen, so a close can be refused as no
longer reducing, which a real bot meets too (the outcome is `rejected`, not a capacity failure).
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import ClassVar

from loadtests.profiles import RequestClass
from loadtests.users.client import Call, Reply, Security
from loadtests.users.market import Side, plain
from loadtests.users.paced import PacedUser

ORDER = "/fapi/v1/order"
LIMIT, MARKET, CANCEL, CLOSE = "order:limit", "order:market", "order:cancel", "order:close"
MIX = ((LIMIT, 0.45), (CANCEL, 0.25), (MARKET, 0.2), (CLOSE, 0.1))
"""Shares of each action; a cancel with nothing resting and a close with nothing held become a
limit and a market order."""
MAX_RESTING = 10
"""A trader with this many orders resting cancels before placing more (the venue caps open
orders per symbol)."""
RESTING = frozenset({"NEW", "PARTIALLY_FILLED"})


def _signed_qty(side: str, qty: Decimal) -> Decimal:
    return qty if side == "BUY" else -qty


class TraderUser(PacedUser):
    request_class = RequestClass.ORDERS
    signs_as_trader = True
    _actions: ClassVar[tuple[str, ...]] = tuple(action for action, _ in MIX)
    _weights: ClassVar[tuple[float, ...]] = tuple(weight for _, weight in MIX)

    def on_start(self) -> None:
        super().on_start()
        self.resting: deque[tuple[str, int]] = deque()
        self.holdings: dict[str, Decimal] = {}

    def next_call(self) -> Call:
        action = self.rng.choices(self._actions, self._weights)[0]
        if len(self.resting) >= MAX_RESTING:
            action = CANCEL
        symbol = self.rng.choice(self.load.market.symbols)
        if action == CANCEL and self.resting:
            return self._cancel()
        if action == CLOSE and self.holdings.get(symbol):
            return self._close(symbol)
        if action in (LIMIT, CANCEL):
            return self._limit(symbol)
        return self._market(symbol)

    def _side(self) -> Side:
        return "BUY" if self.rng.random() < 0.5 else "SELL"

    def _limit(self, symbol: str) -> Call:
        market, side = self.load.market, self._side()
        params = (
            ("symbol", symbol),
            ("side", side),
            ("type", "LIMIT"),
            ("timeInForce", "GTC"),
            ("quantity", plain(market.quantity(symbol))),
            ("price", plain(market.resting_price(symbol, side, self.rng))),
            ("newOrderRespType", "RESULT"),
        )
        return Call(LIMIT, "POST", ORDER, params, Security.SIGNED)

    def _market(self, symbol: str) -> Call:
        params = (
            ("symbol", symbol),
            ("side", self._side()),
            ("type", "MARKET"),
            ("quantity", plain(self.load.market.quantity(symbol))),
            ("newOrderRespType", "RESULT"),
        )
        return Call(MARKET, "POST", ORDER, params, Security.SIGNED)

    def _close(self, symbol: str) -> Call:
        held = self.holdings[symbol]
        params = (
            ("symbol", symbol),
            ("side", "SELL" if held > 0 else "BUY"),
            ("type", "MARKET"),
            ("quantity", plain(abs(held))),
            ("reduceOnly", "true"),
            ("newOrderRespType", "RESULT"),
        )
        return Call(CLOSE, "POST", ORDER, params, Security.SIGNED)

    def _cancel(self) -> Call:
        symbol, order_id = self.resting.popleft()
        params = (("symbol", symbol), ("orderId", str(order_id)))
        return Call(CANCEL, "DELETE", ORDER, params, Security.SIGNED)

    def answered(self, call: Call, reply: Reply) -> None:
        order = reply.json()
        symbol = order["symbol"]
        if call.name != CANCEL:
            executed = _signed_qty(order["side"], Decimal(order["executedQty"]))
            self.holdings[symbol] = self.holdings.get(symbol, Decimal(0)) + executed
        if call.name == LIMIT and order["status"] in RESTING:
            self.resting.append((symbol, int(order["orderId"])))
