"""One command's journaled events as the user-data messages their owners receive.

The engine journals an order's state once per command (accepted, then final), with the trades
in between; Binance reports each fill on its own ORDER_TRADE_UPDATE. The per-fill states are
rebuilt exactly from the final snapshot: what the order had executed before the command is its
final executed quantity minus this command's trades, and each trade adds its own. Realized PnL
is journaled per account per command, not per fill, so it is reported on the account's last fill
of the command: the sum over fills is exact. Balances and positions a command changed go out as
one ACCOUNT_UPDATE per account, after its order updates; funding's as an ACCOUNT_UPDATE of
reason FUNDING_FEE with the balance alone (cross margin: Binance sends no positions with it).
A margin call goes out as MARGIN_CALL, where the engine issued it. Pure: events in, messages out.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Mapping, Sequence

from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    Event,
    FundingFeeCharged,
    LeverageChanged,
    MarginCallIssued,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionChanged,
    TradeExecuted,
)
from exchange_mock.feeds import payloads
from exchange_mock.feeds.payloads import BalanceState, Fill, PositionState
from exchange_mock.formats import JsonObject, mark_ticks
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import (
    PPM,
    AccountId,
    Cash,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Ticks,
    TradeId,
)

UserUpdate = tuple[AccountId, JsonObject]

REASON_ORDER = "ORDER"
REASON_DEPOSIT = "DEPOSIT"
REASON_FUNDING = "FUNDING_FEE"
_CLOSING = {OrderStatus.CANCELED: "CANCELED", OrderStatus.EXPIRED: "EXPIRED"}
"""Execution types of an update that ends an order without a fill."""
AMENDMENT = "AMENDMENT"
"""Binance's execution type for any other change that is not a fill."""


class _Group:
    """What one command did, indexed for building the messages. A command may change one
    account's balance several times (a liquidation: fills, then the clearance fee, then the
    deficit): the last balance is the one reported, the realized PnL, deposits and funding are
    summed."""

    def __init__(self, events: Sequence[Event]) -> None:
        self.trades: dict[OrderId, list[TradeExecuted]] = defaultdict(list)
        self.last_fill: dict[AccountId, tuple[TradeId, OrderId]] = {}
        self.wallets: dict[AccountId, Cash] = {}
        self.realized: dict[AccountId, Cash] = defaultdict(int)
        self.deposits: dict[AccountId, Cash] = defaultdict(int)
        self.funding: dict[AccountId, Cash] = {}
        """Funding paid (negative) or received, by the accounts charged any."""
        self.positions: dict[AccountId, dict[str, PositionChanged]] = defaultdict(dict)
        self.times: dict[AccountId, Millis] = {}
        """Accounts whose balance or positions changed, in order of first change, with the
        time of their last change."""
        for event in events:
            match event:
                case TradeExecuted():
                    self.trades[event.maker_order_id].append(event)
                    self.trades[event.taker_order_id].append(event)
                    self.last_fill[event.maker] = (event.trade_id, event.maker_order_id)
                    self.last_fill[event.taker] = (event.trade_id, event.taker_order_id)
                case BalanceChanged(account=account, balance=balance, realized_pnl=realized):
                    self.wallets[account] = balance
                    self.realized[account] += realized
                    self.times[account] = event.ts
                case AccountFunded(account=account, balance=balance, amount=amount):
                    self.wallets[account] = balance
                    self.deposits[account] += amount
                    self.times[account] = event.ts
                case FundingFeeCharged(account=account, balance=balance, amount=amount):
                    self.wallets[account] = balance
                    self.funding[account] = self.funding.get(account, 0) + amount
                    self.times[account] = event.ts
                case PositionChanged(account=account, symbol=symbol):
                    self.positions[account][symbol] = event
                    self.times[account] = event.ts

    def realized_on(self, account: AccountId, trade: TradeExecuted, order_id: OrderId) -> Cash:
        """The account's realized PnL of the command if this is its last fill, else 0."""
        if self.last_fill.get(account) != (trade.trade_id, order_id):
            return 0
        return self.realized.get(account, 0)


def user_updates(
    events: Sequence[Event], symbols: SymbolTable, marks: Mapping[str, Ticks]
) -> list[UserUpdate]:
    """The user-data messages of one command's events, each with the account it goes to;
    `marks` values positions for their unrealized PnL."""
    group = _Group(events)
    updates: list[UserUpdate] = []
    for event in events:
        match event:
            case OrderAccepted(order=order):
                spec = symbols.by_name[order.symbol]
                message = payloads.order_trade_update(spec, order, "NEW", None, order.time)
                updates.append((order.account, message))
            case OrderUpdated(order=order):
                trades = group.trades.get(order.order_id, [])
                updates += [
                    (order.account, m) for m in _order_updates(symbols, group, order, trades)
                ]
            case LeverageChanged(account=account, symbol=symbol, leverage=leverage, ts=ts):
                updates.append((account, payloads.account_config_update(symbol, leverage, ts)))
            case MarginCallIssued(account=account):
                updates.append((account, payloads.margin_call(symbols, event)))
    updates += [(a, _account_update(symbols, group, a, marks)) for a in group.times]
    return updates


def _order_updates(
    symbols: SymbolTable, group: _Group, final: OrderSnapshot, trades: list[TradeExecuted]
) -> list[JsonObject]:
    """One update per fill of this command, rebuilt from the final state; then the closing
    update if the order ended without filling completely."""
    spec = symbols.by_name[final.symbol]
    executed = final.executed_qty - sum(t.qty for t in trades)
    quote = final.cum_quote - sum(spec.notional(t.price, t.qty) for t in trades)
    liquidation = final.type is OrderType.LIQUIDATION
    execution = "CALCULATED" if liquidation else "TRADE"
    messages = []
    for trade in trades:
        notional = spec.notional(trade.price, trade.qty)
        executed += trade.qty
        quote += notional
        maker = trade.maker_order_id == final.order_id
        # A liquidation pays no trading fee: its account pays the clearance fee instead.
        fee_ppm = 0 if liquidation else spec.maker_fee_ppm if maker else spec.taker_fee_ppm
        fill = Fill(
            qty=trade.qty,
            price=trade.price,
            trade_id=trade.trade_id,
            maker=maker,
            fee=notional * fee_ppm // PPM,
            realized=group.realized_on(final.account, trade, final.order_id),
        )
        state = dataclasses.replace(
            final,
            executed_qty=executed,
            cum_quote=quote,
            status=OrderStatus.FILLED if executed == final.qty else OrderStatus.PARTIALLY_FILLED,
            update_time=trade.ts,
        )
        messages.append(payloads.order_trade_update(spec, state, execution, fill, trade.ts))
    if not trades or final.status in _CLOSING:
        kind = _CLOSING.get(final.status, AMENDMENT)
        messages.append(payloads.order_trade_update(spec, final, kind, None, final.update_time))
    return messages


def _account_update(
    symbols: SymbolTable, group: _Group, account: AccountId, marks: Mapping[str, Ticks]
) -> JsonObject:
    wallet = group.wallets.get(account)
    deposit = group.deposits.get(account, 0)
    change = deposit + group.funding.get(account, 0)
    balance = None if wallet is None else BalanceState(wallet=wallet, change=change)
    positions = []
    for changed in group.positions.get(account, {}).values():
        spec = symbols.by_name[changed.symbol]
        mark = mark_ticks(spec, marks.get(changed.symbol))
        positions.append(PositionState(spec, changed.qty, changed.cost, mark))
    if account in group.funding:
        reason = REASON_FUNDING
    else:
        reason = REASON_DEPOSIT if deposit else REASON_ORDER
    return payloads.account_update(reason, balance, positions, group.times[account])
