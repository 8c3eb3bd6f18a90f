"""Order handling: placing (admission, matching, fills, resting), cancelling, and the leverage
that decides how much margin orders hold; and the two things liquidation asks of the order
flow (cancel everything, send a LIQUIDATION order into the book).

Events of a placed order come in this order: OrderAccepted, its trades, each touched account's
PositionChanged and BalanceChanged, the makers' OrderUpdated, then the taker's final state.
"""

from __future__ import annotations

from exchange_mock.domain.commands import CancelAllOrders, CancelOrder, PlaceOrder, SetLeverage
from exchange_mock.domain.events import (
    Event,
    LeverageChanged,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    TradeExecuted,
)
from exchange_mock.domain.replies import Done, Rejected
from exchange_mock.engine.admission import FOK_REJECTED, MAX_POSITION_REJECTED, RESTING, admit
from exchange_mock.engine.contract import Contract
from exchange_mock.engine.matching import Fill, plan
from exchange_mock.engine.orders import Order
from exchange_mock.engine.positions import Account, Position
from exchange_mock.engine.refusals import INVALID_SYMBOL, NOT_TRADING, Outcome
from exchange_mock.engine.settlement import Settlement
from exchange_mock.engine.state import State
from exchange_mock.errors import Code
from exchange_mock.risk import max_notional
from exchange_mock.types import (
    PPM,
    Lots,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
    TradeId,
)

_UNKNOWN_ORDER = Rejected(Code.CANCEL_REJECTED, "Unknown order sent.")
_NO_ORDER_ID = Rejected(
    Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
)


class Trading:
    def __init__(self, state: State) -> None:
        self._state = state

    def place(self, command: PlaceOrder) -> Outcome:
        state = self._state
        contract = state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        if contract.spec.delivered(command.ts):
            return [], NOT_TRADING
        account = state.account(command.account)
        position = account.position(contract)
        makers = contract.book.side(command.side.opposite)
        rejected = admit(command, contract, account, position, makers)
        if rejected is not None:
            return [], rejected
        limit = command.type is OrderType.LIMIT
        taker = Order(
            OrderId(state.next_order_id),
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
            fills = self._plan(contract, taker)
        tif = command.time_in_force if limit else None
        if tif is TimeInForce.FOK and sum(fill.lots for fill in fills) < taker.qty:
            return [], FOK_REJECTED
        state.next_order_id += 1
        return self._execute(contract, account, position, taker, fills, tif in RESTING)

    def cancel(self, command: CancelOrder) -> Outcome:
        contract = self._state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        if command.order_id is None and command.client_order_id is None:
            return [], _NO_ORDER_ID
        position = self._state.existing_position(command.account, command.symbol)
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
        return self._cancel_orders(contract, position, [order], command.ts)

    def cancel_all(self, command: CancelAllOrders) -> Outcome:
        contract = self._state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        position = self._state.existing_position(command.account, command.symbol)
        if position is None:
            return [], Done()
        return self._cancel_orders(contract, position, list(position.orders.values()), command.ts)

    def set_leverage(self, command: SetLeverage) -> Outcome:
        state = self._state
        contract = state.contracts.get(command.symbol)
        if contract is None:
            return [], INVALID_SYMBOL
        if not 1 <= command.leverage <= contract.max_leverage:
            return [], Rejected(Code.INVALID_LEVERAGE, f"Leverage {command.leverage} is not valid")
        position = state.position(command.account, command.symbol)
        mark = contract.mark_price()
        cap = max_notional(contract.spec, command.leverage)
        if position.qty and mark is not None and abs(mark * position.qty * contract.unit) > cap:
            return [], MAX_POSITION_REJECTED
        state.apply_leverage(position, command.leverage)
        event = LeverageChanged(command.account, command.symbol, command.leverage, command.ts)
        return [event], Done()

    # -- what liquidation asks of the order flow ------------------------------------------------

    def cancel_every_order(self, account: Account, ts: Millis) -> list[Event]:
        """Cancel the account's open orders on every symbol (the first step of liquidation)."""
        events: list[Event] = []
        for symbol in sorted(account.positions):
            position = account.positions[symbol]
            if position.orders:
                orders = list(position.orders.values())
                contract = self._state.contracts[symbol]
                cancelled, _ = self._cancel_orders(contract, position, orders, ts)
                events += cancelled
        return events

    def liquidation_order(
        self,
        contract: Contract,
        account: Account,
        position: Position,
        side: Side,
        qty: Lots,
        price: Ticks,
        ts: Millis,
    ) -> tuple[list[Event], OrderSnapshot]:
        """An IOC LIQUIDATION order for the account, into the book at `price` or better, with
        no taker fee (the clearance fee replaces it); its events and final state."""
        order_id = self._state.next_order_id
        self._state.next_order_id += 1
        taker = Order(
            OrderId(order_id),
            f"autoclose-{order_id}",
            account.id,
            contract.symbol,
            side,
            OrderType.LIQUIDATION,
            TimeInForce.IOC,
            price,
            qty,
            True,
            ts,
        )
        makers = contract.book.side(side.opposite)
        fills = self._plan(contract, taker) if makers.crosses(price) else []
        events, _ = self._execute(contract, account, position, taker, fills, False, 0)
        return events, taker.snapshot()

    # -- matching and settling ------------------------------------------------------------------

    def _plan(self, contract: Contract, taker: Order) -> list[Fill]:
        accounts, symbol = self._state.accounts, contract.symbol
        makers = contract.book.side(taker.side.opposite)
        return plan(makers, taker, lambda owner: accounts[owner].positions[symbol].qty)

    def _execute(
        self,
        contract: Contract,
        account: Account,
        position: Position,
        taker: Order,
        fills: list[Fill],
        can_rest: bool,
        taker_fee_ppm: int | None = None,
    ) -> Outcome:
        """Apply a matching plan; rest or expire what is left of the taker."""
        accepted = taker.snapshot()
        fee_ppm = contract.taker_fee_ppm if taker_fee_ppm is None else taker_fee_ppm
        trades, account_events, makers = (
            self._fill(contract, account, position, taker, fills, fee_ppm)
            if fills
            else ([], [], [])
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
        contract.book.update_id += len(events) - len(account_events)
        return events, Done((final, *makers))

    def _fill(
        self,
        contract: Contract,
        account: Account,
        position: Position,
        taker: Order,
        fills: list[Fill],
        taker_fee_ppm: int,
    ) -> tuple[list[Event], list[Event], list[OrderSnapshot]]:
        """Trade the taker against each planned maker: the trades, the accounts' resulting
        position and balance events, and the makers' final snapshots."""
        state = self._state
        ts = taker.time
        symbol = contract.symbol
        unit = contract.unit
        trades: list[Event] = []
        makers: list[OrderSnapshot] = []
        settlement = Settlement()
        for maker, lots, expires in fills:
            maker_account = state.accounts[maker.account]
            maker_position = maker_account.positions[symbol]
            if lots:
                price = maker.price
                assert price is not None
                notional = price * lots * unit
                trade_id = TradeId(state.next_trade_id)
                state.next_trade_id += 1
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
                    account, position, taker.sign * lots, price, notional * taker_fee_ppm // PPM
                )
                settlement.settle(
                    maker_account,
                    maker_position,
                    maker.sign * lots,
                    price,
                    notional * contract.maker_fee_ppm // PPM,
                )
                taker.fill(lots, notional, ts)
                maker_position.shrink(maker, lots)
                maker.fill(lots, notional, ts)
                contract.last_price = price
            if expires or not maker.remaining:
                maker_position.remove(maker)
                if maker.remaining:
                    maker.close(OrderStatus.EXPIRED, ts)
            makers.append(maker.snapshot())
        state.fees += settlement.fees
        state.watch.stale.update(settlement.accounts())
        return trades, settlement.events(symbol, ts), makers

    def _cancel_orders(
        self, contract: Contract, position: Position, orders: list[Order], ts: Millis
    ) -> Outcome:
        snapshots = []
        for order in orders:
            position.remove(order)
            order.close(OrderStatus.CANCELED, ts)
            snapshots.append(order.snapshot())
        contract.book.update_id += len(snapshots)
        return [OrderUpdated(snapshot) for snapshot in snapshots], Done(tuple(snapshots))
