"""Liquidation: closing an account whose equity fell to its maintenance margin, with the
insurance fund and auto-deleveraging behind the order book.

For the account (cross margin: every position goes):

1. Cancel its open orders.
2. Per position, at the bankruptcy price BP (where the account's equity would be zero, the
   other positions held at their marks):
   a. an IOC LIQUIDATION order at BP into the book. Fills at BP or better leave the equity at
      or above zero.
   b. What the book cannot take at BP, the insurance fund backs: the order continues past BP as
      far as the fund can pay the shortfall (what it has, plus collateral it holds, less what
      this account already owes it).
   c. What is left is auto-deleveraged: closed at BP against opposite positions, the highest
      ranked first, PnL% × margin ratio (Binance's ranking).
3. The clearance fee (the symbol's liquidation fee on the closed notional, at most what equity
   remains) goes to the fund. A USDT balance left negative is cleared first with the account's
   collateral, which the fund takes at its haircut value, then by the fund itself. So the
   fund's cash can go below zero while it holds collateral: its value (cash plus holdings at
   the haircut price) is what stands behind the next liquidation.

Every step is an event, so a replay rebuilds the fund, the holdings and the truth counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from exchange_mock.domain.events import (
    BalanceChanged,
    CollateralConverted,
    Event,
    FundFlow,
    InsuranceFundChanged,
    OrderSnapshot,
    PositionAutoDeleveraged,
    PositionLiquidated,
)
from exchange_mock.engine.adl import queue
from exchange_mock.engine.collateral import Holding
from exchange_mock.engine.contract import Contract
from exchange_mock.engine.margin import exposure
from exchange_mock.engine.matching import plan
from exchange_mock.engine.orders import Order
from exchange_mock.engine.positions import Account, Position
from exchange_mock.engine.settlement import Settlement
from exchange_mock.engine.watch import Watch
from exchange_mock.risk import bankruptcy_ticks
from exchange_mock.types import (
    PPM,
    AccountId,
    Cash,
    Lots,
    Millis,
    OrderId,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
)


class Executor(Protocol):
    """What liquidation needs from the engine's order flow."""

    def cancel_every_order(self, account: Account, ts: Millis) -> list[Event]: ...

    def liquidation_order(
        self,
        contract: Contract,
        account: Account,
        position: Position,
        side: Side,
        qty: Lots,
        price: Ticks,
        ts: Millis,
    ) -> tuple[list[Event], OrderSnapshot]: ...


class InsuranceFund:
    """The fund's cash and the collateral it took over."""

    __slots__ = ("cash", "collateral")

    def __init__(self) -> None:
        self.cash: Cash = 0
        self.collateral: dict[str, Holding] = {}

    def value(self) -> Cash:
        """Cash plus collateral at its haircut value: what the fund can stand behind."""
        return self.cash + sum(holding.value for holding in self.collateral.values())


@dataclass(slots=True)
class LiquidationStats:
    """The truth counter of one symbol: every liquidation, however few the feed shows."""

    count: int = 0
    notional: Cash = 0
    time: Millis = 0
    deleveraged: int = 0
    """Positions closed by auto-deleveraging."""
    deleveraged_notional: Cash = 0


class Liquidator:
    def __init__(
        self,
        accounts: dict[AccountId, Account],
        watch: Watch,
        fund: InsuranceFund,
        stats: dict[str, LiquidationStats],
        executor: Executor,
    ) -> None:
        self._accounts = accounts
        self._watch = watch
        self._fund = fund
        self._stats = stats
        self._executor = executor

    def due(self, account: Account) -> bool:
        """Whether the account's equity is at or below its maintenance margin at the marks."""
        equity, maintenance = exposure(account)
        return maintenance > 0 and equity <= maintenance

    def liquidate(self, account: Account, ts: Millis) -> list[Event]:
        events = self._executor.cancel_every_order(account, ts)
        clearance = 0
        for symbol in sorted(account.positions):
            position = account.positions[symbol]
            if position.qty:
                closed, notional = self._close(account, position, ts)
                events += closed
                clearance += notional * position.contract.liquidation_fee_ppm // PPM
        events += self._settle(account, clearance, ts)
        self._watch.stale.add(account.id)
        return events

    def _close(self, account: Account, position: Position, ts: Millis) -> tuple[list[Event], Cash]:
        """Close one position: at bankruptcy into the book, then past it as far as the fund
        pays, then by auto-deleveraging. Returns the events and the notional closed."""
        contract = position.contract
        unit = contract.unit
        lots = position.qty
        side = Side.SELL if lots > 0 else Side.BUY
        cushion = account.wallet() + _others_pnl(account, position)
        price = bankruptcy_ticks(lots, position.cost, unit, cushion)
        events, order = self._executor.liquidation_order(
            contract, account, position, side, abs(lots), price, ts
        )
        filled, quote = order.executed_qty, order.cum_quote
        if position.qty:
            cushion = account.wallet() + _others_pnl(account, position)
            equity_at_price = cushion - position.cost + price * position.qty * unit
            room = self._fund.value() + min(0, equity_at_price)
            qty, worst = self._affordable(contract, account, position, side, price, room)
            if qty:
                more, backed = self._executor.liquidation_order(
                    contract, account, position, side, qty, worst, ts
                )
                events += more
                filled += backed.executed_qty
                quote += backed.cum_quote
        deleveraged = abs(position.qty)
        if deleveraged:
            events += self._deleverage(contract, account, position, price, ts)
        notional = quote + deleveraged * price * unit
        mark = contract.mark_price() or price
        stats = self._stats[contract.symbol]
        stats.count += 1
        stats.notional += notional
        stats.time = ts
        if deleveraged:
            stats.deleveraged += 1
            stats.deleveraged_notional += deleveraged * price * unit
        events.append(
            PositionLiquidated(
                account.id,
                contract.symbol,
                side,
                abs(lots),
                price,
                filled,
                quote,
                deleveraged,
                notional,
                mark,
                ts,
            )
        )
        return events, notional

    def _affordable(
        self,
        contract: Contract,
        account: Account,
        position: Position,
        side: Side,
        price: Ticks,
        room: Cash,
    ) -> tuple[Lots, Ticks]:
        """How many lots the book takes past `price` before the shortfall exceeds `room`, and
        the worst price reached: an IOC order with that size and limit fills exactly those
        lots, since matching is deterministic and nothing changes in between."""
        makers = contract.book.side(side.opposite)
        probe = Order(
            OrderId(0),
            "",
            account.id,
            contract.symbol,
            side,
            OrderType.LIQUIDATION,
            TimeInForce.IOC,
            None,
            abs(position.qty),
            True,
            0,
        )
        accounts, symbol = self._accounts, contract.symbol
        fills = plan(makers, probe, lambda owner: accounts[owner].positions[symbol].qty)
        direction = 1 if side is Side.SELL else -1
        total, worst, spent = 0, price, 0
        for maker, lots, _expires in fills:
            if not lots:
                continue
            assert maker.price is not None
            per_lot = max(0, direction * (price - maker.price) * contract.unit)
            take = lots if per_lot == 0 else min(lots, max(0, room - spent) // per_lot)
            if not take:
                break
            spent += per_lot * take
            total += take
            worst = maker.price
            if take < lots:
                break
        return total, worst

    def _deleverage(
        self, contract: Contract, account: Account, position: Position, price: Ticks, ts: Millis
    ) -> list[Event]:
        """Close the rest of `position` at `price` against the opposite positions, highest
        PnL% × margin ratio first (ties: the larger position, then the lower account id)."""
        symbol = contract.symbol
        self._watch.refresh(self._accounts)
        holders = self._watch.symbols[symbol].liquidation.holders(long=position.qty < 0)
        counterparties = queue(
            (self._accounts[holder] for holder in holders if holder != account.id), symbol
        )
        sign = 1 if position.qty > 0 else -1
        remaining = abs(position.qty)
        settlement = Settlement()
        events: list[Event] = []
        for other in counterparties:
            theirs = other.positions[symbol]
            take = min(remaining, abs(theirs.qty))
            settlement.settle(account, position, -sign * take, price, 0)
            settlement.settle(other, theirs, sign * take, price, 0)
            events.append(PositionAutoDeleveraged(other.id, symbol, take, price, account.id, ts))
            remaining -= take
            if not remaining:
                break
        self._watch.stale.update(settlement.accounts())
        return events + settlement.events(symbol, ts)

    def _settle(self, account: Account, clearance: Cash, ts: Millis) -> list[Event]:
        """The clearance fee to the fund, then a negative USDT balance cleared: with the
        account's collateral (the fund buys it at its haircut value), then by the fund."""
        fund = self._fund
        events: list[Event] = []
        fee = min(clearance, max(0, account.wallet()))
        if fee:
            account.balance -= fee
            fund.cash += fee
            events.append(BalanceChanged(account.id, account.balance, 0, 0, ts))
            events.append(
                InsuranceFundChanged(fee, fund.cash, FundFlow.CLEARANCE_FEE, account.id, ts)
            )
        for name in sorted(account.collateral):
            holding = account.collateral[name]
            if account.balance >= 0:
                break
            units = min(holding.amount, holding.asset.units_for(-account.balance))
            value = holding.asset.value(units)
            if not value:
                continue
            kept = fund.collateral.get(name)
            if kept is None:
                kept = fund.collateral[name] = Holding(holding.asset)
            holding.amount -= units
            kept.amount += units
            account.balance += value
            fund.cash -= value
            events.append(
                CollateralConverted(account.id, name, units, value, holding.amount, kept.amount, ts)
            )
            events.append(BalanceChanged(account.id, account.balance, 0, 0, ts))
            events.append(
                InsuranceFundChanged(-value, fund.cash, FundFlow.COLLATERAL, account.id, ts)
            )
        if account.balance < 0:
            deficit = -account.balance
            account.balance = 0
            fund.cash -= deficit
            events.append(BalanceChanged(account.id, 0, 0, 0, ts))
            events.append(
                InsuranceFundChanged(-deficit, fund.cash, FundFlow.DEFICIT, account.id, ts)
            )
        return events


def _others_pnl(account: Account, position: Position) -> Cash:
    """Unrealized PnL of the account's positions other than `position`, at their marks."""
    total = 0
    for other in account.positions.values():
        if other is not position and other.qty:
            contract = other.contract
            total += (contract.mark_price() or 0) * other.qty * contract.unit - other.cost
    return total
