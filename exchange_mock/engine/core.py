"""The engine: the exchange's one state machine, fed one command at a time.

It is pure (no I/O, no clock: times come on the commands; no randomness), and every change it
makes is described by the events it returns, so replaying the journal rebuilds exactly the same
state after a restart. A refused command returns no events and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from exchange_mock.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    Command,
    FundAccount,
    PlaceOrder,
    SetLeverage,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    Event,
    LeverageChanged,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionChanged,
    TradeExecuted,
)
from exchange_mock.domain.replies import Done, Rejected, Reply
from exchange_mock.engine.admission import (
    FOK_REJECTED,
    MAX_POSITION_REJECTED,
    RESTING,
    admit,
)
from exchange_mock.engine.margin import max_notional
from exchange_mock.engine.market import Market
from exchange_mock.engine.matching import Fill, plan
from exchange_mock.engine.orders import Order
from exchange_mock.engine.positions import Account, Position
from exchange_mock.engine.settlement import Settlement
from exchange_mock.errors import Code
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import (
    OPEN_STATUSES,
    PPM,
    AccountId,
    Cash,
    Lots,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Ticks,
    TimeInForce,
    TradeId,
)

Outcome = tuple[list[Event], Reply]

_INVALID_SYMBOL = Rejected(Code.BAD_SYMBOL, "Invalid symbol.")
_UNKNOWN_ORDER = Rejected(Code.CANCEL_REJECTED, "Unknown order sent.")
_NO_ORDER_ID = Rejected(
    Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
)
_BAD_AMOUNT = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'amount' is not valid.")


@dataclass(frozen=True, slots=True)
class Audit:
    """Conservation at this instant: Σ balances − Σ position costs + fees == cash seeded, and
    every symbol's positions sum to zero."""

    seeded: Cash
    balances: Cash
    costs: Cash
    fees: Cash
    net_positions: dict[str, Lots]

    @property
    def balanced(self) -> bool:
        return self.balances - self.costs + self.fees == self.seeded and not any(
            self.net_positions.values()
        )


class Engine:
    def __init__(self, symbols: SymbolTable, default_leverage: int) -> None:
        self._markets = {spec.symbol: Market(spec, default_leverage) for spec in symbols.symbols}
        self._accounts: dict[AccountId, Account] = {}
        self._next_order_id = 1
        self._next_trade_id = 1
        self._seeded: Cash = 0
        self._fees: Cash = 0

    # -- the interface ------------------------------------------------------------------------

    def handle(self, command: Command) -> Outcome:
        """Apply one command; return the events it caused (in order) and the reply to its
        sender."""
        match command:
            case PlaceOrder():
                return self._place(command)
            case CancelOrder():
                return self._cancel(command)
            case CancelAllOrders():
                return self._cancel_all(command)
            case FundAccount():
                return self._fund(command)
            case SetLeverage():
                return self._set_leverage(command)
            case UpdateMarkPrice():
                return self._update_mark(command)
            case _:
                assert_never(command)

    def replay(self, event: Event) -> None:
        """Rebuild state from a journaled event (restart): after replaying every event that
        `handle` produced, the state equals the original's exactly."""
        match event:
            case OrderAccepted(order=snapshot):
                self._next_order_id = max(self._next_order_id, snapshot.order_id + 1)
                self._markets[snapshot.symbol].book.update_id += 1
                if snapshot.type is OrderType.LIMIT and snapshot.time_in_force in RESTING:
                    # Rested now, with its fills applied by the OrderUpdated that follows: the
                    # same queue position it took after matching, since nothing else of its
                    # side moves within one command.
                    order = Order.from_snapshot(snapshot)
                    self._position(order.account, snapshot.symbol).rest(order)
            case OrderUpdated(order=snapshot):
                self._next_order_id = max(self._next_order_id, snapshot.order_id + 1)
                self._markets[snapshot.symbol].book.update_id += 1
                self._replay_update(snapshot)
            case TradeExecuted(symbol=symbol, trade_id=trade_id, price=price):
                self._next_trade_id = max(self._next_trade_id, trade_id + 1)
                market = self._markets[symbol]
                market.book.update_id += 1
                market.last_price = price
            case PositionChanged(account=account_id, symbol=symbol, qty=qty, cost=cost):
                position = self._position(account_id, symbol)
                position.qty, position.cost = qty, cost
            case BalanceChanged(account=account_id, balance=balance, fee=fee):
                self._account(account_id).balance = balance
                self._fees += fee
            case AccountFunded(account=account_id, amount=amount, balance=balance):
                self._account(account_id).balance = balance
                self._seeded += amount
            case LeverageChanged(account=account_id, symbol=symbol, leverage=leverage):
                self._apply_leverage(self._position(account_id, symbol), leverage)
            case MarkPriceUpdated(symbol=symbol, price=price):
                self._markets[symbol].mark = price
            case _:
                assert_never(event)

    def depth(
        self, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Ticks, Lots]], list[tuple[Ticks, Lots]]]:
        """(book update id, bids best first, asks best first) as (price, size) levels."""
        book = self._markets[symbol].book
        return book.update_id, book.bids.depth(limit), book.asks.depth(limit)

    def audit(self) -> Audit:
        balances = costs = 0
        net = dict.fromkeys(self._markets, 0)
        for account in self._accounts.values():
            balances += account.balance
            for symbol, position in account.positions.items():
                costs += position.cost
                net[symbol] += position.qty
        return Audit(self._seeded, balances, costs, self._fees, net)

    def state(self) -> dict[str, object]:
        """Everything a replay must restore, as plain comparable data: the books in priority
        order, the accounts (leaving out those in their initial state), the counters."""
        markets = {
            symbol: {
                "update_id": market.book.update_id,
                "mark": market.mark,
                "last_price": market.last_price,
                "bids": [order.snapshot() for order in market.book.bids.orders()],
                "asks": [order.snapshot() for order in market.book.asks.orders()],
            }
            for symbol, market in self._markets.items()
        }
        accounts: dict[AccountId, object] = {}
        for account_id, account in sorted(self._accounts.items()):
            positions = {
                symbol: (p.qty, p.cost, p.leverage, p.max_notional, p.open_notional, list(p.orders))
                for symbol, p in account.positions.items()
                if p.qty or p.cost or p.orders or p.leverage != p.market.default_leverage
            }
            if account.balance or positions:
                accounts[account_id] = (account.balance, positions)
        return {
            "next_order_id": self._next_order_id,
            "next_trade_id": self._next_trade_id,
            "seeded": self._seeded,
            "fees": self._fees,
            "markets": markets,
            "accounts": accounts,
        }

    # -- orders ---------------------------------------------------------------------------------

    def _place(self, command: PlaceOrder) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        account = self._account(command.account)
        position = account.position(market)
        makers = market.book.side(command.side.opposite)
        rejected = admit(command, market, account, position, makers)
        if rejected is not None:
            return [], rejected
        limit = command.type is OrderType.LIMIT
        taker = Order(
            OrderId(self._next_order_id),
            command.client_order_id,
            command.account,
            command.symbol,
            command.side,
            command.type,
            command.time_in_force,
            command.price if limit else None,
            command.qty,
            command.reduce_only,
            command.ts,
        )
        fills: list[Fill] = []
        if taker.price is None or makers.crosses(taker.price):
            accounts, symbol = self._accounts, command.symbol
            fills = plan(makers, taker, lambda owner: accounts[owner].positions[symbol].qty)
        tif = command.time_in_force if limit else None
        if tif is TimeInForce.FOK and sum(fill.lots for fill in fills) < taker.qty:
            return [], FOK_REJECTED
        self._next_order_id += 1
        return self._execute(market, account, position, taker, fills, tif in RESTING)

    def _execute(
        self,
        market: Market,
        account: Account,
        position: Position,
        taker: Order,
        fills: list[Fill],
        can_rest: bool,
    ) -> Outcome:
        """Apply a matching plan; rest or expire what is left of the taker."""
        accepted = taker.snapshot()
        trades, account_events, makers = (
            self._fill(market, account, position, taker, fills) if fills else ([], [], [])
        )
        rests = can_rest and taker.remaining > 0
        if rests:
            position.rest(taker)
        elif taker.remaining:
            taker.close(OrderStatus.EXPIRED, taker.time)
        changed = bool(trades) or not rests
        final = taker.snapshot() if changed else accepted
        events: list[Event] = [OrderAccepted(accepted), *trades]
        events += account_events
        events += [OrderUpdated(snapshot) for snapshot in makers]
        if changed:
            events.append(OrderUpdated(final))
        market.book.update_id += len(events) - len(account_events)
        return events, Done((final, *makers))

    def _fill(
        self, market: Market, account: Account, position: Position, taker: Order, fills: list[Fill]
    ) -> tuple[list[Event], list[Event], list[OrderSnapshot]]:
        """Trade the taker against each planned maker: the trades, the accounts' resulting
        position and balance events, and the makers' final snapshots."""
        ts = taker.time
        symbol = market.symbol
        unit = market.unit
        trades: list[Event] = []
        makers: list[OrderSnapshot] = []
        settlement = Settlement()
        for maker, lots, expires in fills:
            maker_account = self._accounts[maker.account]
            maker_position = maker_account.positions[symbol]
            if lots:
                price = maker.price
                assert price is not None
                notional = price * lots * unit
                trade_id = TradeId(self._next_trade_id)
                self._next_trade_id += 1
                trades.append(
                    TradeExecuted(
                        symbol,
                        trade_id,
                        price,
                        lots,
                        taker.side,
                        taker.id,
                        maker.id,
                        taker.account,
                        maker.account,
                        ts,
                    )
                )
                settlement.settle(
                    account,
                    position,
                    taker.sign * lots,
                    price,
                    notional * market.taker_fee_ppm // PPM,
                )
                settlement.settle(
                    maker_account,
                    maker_position,
                    maker.sign * lots,
                    price,
                    notional * market.maker_fee_ppm // PPM,
                )
                taker.fill(lots, notional, ts)
                maker_position.shrink(maker, lots)
                maker.fill(lots, notional, ts)
                market.last_price = price
            if expires or not maker.remaining:
                maker_position.remove(maker)
                if maker.remaining:
                    maker.close(OrderStatus.EXPIRED, ts)
            makers.append(maker.snapshot())
        self._fees += settlement.fees
        return trades, settlement.events(symbol, ts), makers

    def _cancel(self, command: CancelOrder) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        if command.order_id is None and command.client_order_id is None:
            return [], _NO_ORDER_ID
        position = self._existing_position(command.account, command.symbol)
        if position is None:
            return [], _UNKNOWN_ORDER
        if command.order_id is not None:
            order = position.orders.get(command.order_id)
        else:
            order = next(
                (o for o in position.orders.values() if o.client_id == command.client_order_id),
                None,
            )
        if order is None:
            return [], _UNKNOWN_ORDER
        return self._cancel_orders(market, position, [order], command.ts)

    def _cancel_all(self, command: CancelAllOrders) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        position = self._existing_position(command.account, command.symbol)
        if position is None:
            return [], Done()
        return self._cancel_orders(market, position, list(position.orders.values()), command.ts)

    def _cancel_orders(
        self, market: Market, position: Position, orders: list[Order], ts: Millis
    ) -> Outcome:
        snapshots = []
        for order in orders:
            position.remove(order)
            order.close(OrderStatus.CANCELED, ts)
            snapshots.append(order.snapshot())
        market.book.update_id += len(snapshots)
        return [OrderUpdated(snapshot) for snapshot in snapshots], Done(tuple(snapshots))

    # -- accounts and marks ---------------------------------------------------------------------

    def _fund(self, command: FundAccount) -> Outcome:
        if command.amount <= 0:
            return [], _BAD_AMOUNT
        account = self._account(command.account)
        account.balance += command.amount
        self._seeded += command.amount
        return [AccountFunded(account.id, command.amount, account.balance, command.ts)], Done()

    def _set_leverage(self, command: SetLeverage) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        if not 1 <= command.leverage <= market.max_leverage:
            return [], Rejected(Code.INVALID_LEVERAGE, f"Leverage {command.leverage} is not valid")
        position = self._position(command.account, command.symbol)
        mark = market.mark_price()
        cap = max_notional(market.spec, command.leverage)
        if position.qty and mark is not None and abs(mark * position.qty * market.unit) > cap:
            return [], MAX_POSITION_REJECTED
        self._apply_leverage(position, command.leverage)
        event = LeverageChanged(command.account, command.symbol, command.leverage, command.ts)
        return [event], Done()

    def _update_mark(self, command: UpdateMarkPrice) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        market.mark = command.price
        return [MarkPriceUpdated(command.symbol, command.price, command.ts)], Done()

    # -- replay and lookups ------------------------------------------------------------------

    def _replay_update(self, snapshot: OrderSnapshot) -> None:
        position = self._existing_position(snapshot.account, snapshot.symbol)
        order = None if position is None else position.orders.get(snapshot.order_id)
        if position is None or order is None:
            return  # never rested: an order that expired or filled on arrival
        remaining = snapshot.qty - snapshot.executed_qty
        if snapshot.status in OPEN_STATUSES:
            position.shrink(order, order.remaining - remaining)
        else:
            position.remove(order)
        order.restore(snapshot)

    def _apply_leverage(self, position: Position, leverage: int) -> None:
        position.leverage = leverage
        position.max_notional = max_notional(position.market.spec, leverage)

    def _account(self, account_id: AccountId) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = Account(account_id)
        return account

    def _position(self, account_id: AccountId, symbol: str) -> Position:
        return self._account(account_id).position(self._markets[symbol])

    def _existing_position(self, account_id: AccountId, symbol: str) -> Position | None:
        account = self._accounts.get(account_id)
        return None if account is None else account.positions.get(symbol)
