"""Rebuilding the engine's state from its journal (a restart): after replaying every event the
handlers produced, the state equals the original's exactly. Events carry resulting state, so
most are a copy into place; the watch lists are derived, and are rebuilt at the next check."""

from __future__ import annotations

from typing import assert_never

from exchange_mock.domain.events import (
    AccountFunded,
    AdlQuantilesUpdated,
    BalanceChanged,
    BookChanged,
    CollateralConverted,
    CollateralDeposited,
    CollateralPriceUpdated,
    Event,
    FundFlow,
    FundingFeeCharged,
    FundingSettled,
    InsuranceFundChanged,
    LeverageChanged,
    MarginCallIssued,
    MarginCallLifted,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.engine.admission import RESTING
from exchange_mock.engine.orders import Order
from exchange_mock.engine.state import State
from exchange_mock.types import OPEN_STATUSES, OrderType


def replay(state: State, event: Event) -> None:
    state.watch.rebuild = True
    match event:
        case OrderAccepted(order=snapshot):
            state.next_order_id = max(state.next_order_id, snapshot.order_id + 1)
            state.contracts[snapshot.symbol].book.update_id += 1
            if snapshot.type is OrderType.LIMIT and snapshot.time_in_force in RESTING:
                # Rested now, with its fills applied by the OrderUpdated that follows: the same
                # queue position it took after matching, since nothing else of its side moves
                # within one command.
                order = Order.from_snapshot(snapshot)
                state.position(order.account, snapshot.symbol).rest(order)
        case OrderUpdated(order=snapshot):
            state.next_order_id = max(state.next_order_id, snapshot.order_id + 1)
            state.contracts[snapshot.symbol].book.update_id += 1
            _update_order(state, snapshot)
        case TradeExecuted(symbol=symbol, trade_id=trade_id, price=price):
            state.next_trade_id = max(state.next_trade_id, trade_id + 1)
            contract = state.contracts[symbol]
            contract.book.update_id += 1
            contract.last_price = price
        case PositionChanged(account=account_id, symbol=symbol, qty=qty, cost=cost):
            position = state.position(account_id, symbol)
            position.qty, position.cost = qty, cost
        case BalanceChanged(account=account_id, balance=balance, fee=fee):
            state.account(account_id).balance = balance
            state.fees += fee
        case AccountFunded(account=account_id, amount=amount, balance=balance):
            state.account(account_id).balance = balance
            state.seeded += amount
        case LeverageChanged(account=account_id, symbol=symbol, leverage=leverage):
            state.apply_leverage(state.position(account_id, symbol), leverage)
        case MarkPriceUpdated(symbol=symbol, price=price, ts=ts):
            contract = state.contracts[symbol]
            contract.mark, contract.mark_time = price, ts
        case CollateralPriceUpdated(asset=asset, price=price):
            state.assets[asset].reprice(price)
        case CollateralDeposited(account=account_id, asset=asset, amount=amount, balance=held):
            state.account(account_id).holding(state.assets[asset]).amount = held
            state.deposited[asset] += amount
        case CollateralConverted(account=account_id, asset=asset, balance=held, fund_balance=kept):
            state.account(account_id).holding(state.assets[asset]).amount = held
            state.fund_holding(asset).amount = kept
        case InsuranceFundChanged(amount=amount, balance=balance, reason=reason):
            state.insurance.cash = balance
            if reason is FundFlow.SEEDED:
                state.seeded += amount
        case PositionLiquidated(symbol=symbol, notional=notional, deleveraged=lots, ts=ts):
            stats = state.stats[symbol]
            stats.count += 1
            stats.notional += notional
            stats.time = ts
            if lots:
                stats.deleveraged += 1
                stats.deleveraged_notional += notional - event.cum_quote
        case FundingSettled(symbol=symbol, funding_time=funding_time):
            state.contracts[symbol].funded_until = funding_time
        case FundingFeeCharged(account=account_id, balance=balance):
            state.account(account_id).balance = balance
        case MarginCallIssued(account=account_id):
            state.margin_called.add(account_id)
        case MarginCallLifted(account=account_id):
            state.margin_called.discard(account_id)
        case AdlQuantilesUpdated(symbol=symbol, quantiles=changed):
            published = state.adl_quantiles[symbol]
            for entry in changed:
                if entry.quantile:
                    published[entry.account] = entry.quantile
                else:
                    published.pop(entry.account, None)
        case PositionAutoDeleveraged():
            pass  # its PositionChanged and BalanceChanged carry the state
        case BookChanged():
            pass  # a read of the books the order and trade events before it rebuilt
        case _:
            assert_never(event)


def _update_order(state: State, snapshot: OrderSnapshot) -> None:
    position = state.existing_position(snapshot.account, snapshot.symbol)
    order = None if position is None else position.orders.get(snapshot.order_id)
    if position is None or order is None:
        return  # never rested: an order that expired or filled on arrival
    remaining = snapshot.qty - snapshot.executed_qty
    if snapshot.status in OPEN_STATUSES:
        position.shrink(order, order.remaining - remaining)
    else:
        position.remove(order)
    order.restore(snapshot)
