"""Settling one command's fills into the accounts it touched: positions, realized PnL, fees,
and afterwards one PositionChanged and one BalanceChanged per account, only where something
changed. Events carry resulting state, so an account that traded ten times in one command is
reported once.
"""

from __future__ import annotations

from exchange_mock.domain.events import BalanceChanged, Event, PositionChanged
from exchange_mock.engine.positions import Account, Position
from exchange_mock.types import AccountId, Cash, Lots, Millis, Ticks


class _Touched:
    """An account's state before the command, and what the command has done to it so far."""

    __slots__ = ("account", "balance", "cost", "fee", "position", "qty", "realized")

    def __init__(self, account: Account, position: Position) -> None:
        self.account = account
        self.position = position
        self.qty = position.qty
        self.cost = position.cost
        self.balance = account.balance
        self.realized: Cash = 0
        self.fee: Cash = 0


class Settlement:
    __slots__ = ("_touched", "fees")

    def __init__(self) -> None:
        self._touched: dict[AccountId, _Touched] = {}
        self.fees: Cash = 0  # collected by the exchange in this command

    def settle(
        self, account: Account, position: Position, lots: Lots, price: Ticks, fee: Cash
    ) -> None:
        """One side of a fill: `lots` signed (positive bought), `fee` charged to the account."""
        touched = self._touched.get(account.id)
        if touched is None:
            touched = self._touched[account.id] = _Touched(account, position)
        realized = position.settle(lots, price)
        account.balance += realized - fee
        touched.realized += realized
        touched.fee += fee
        self.fees += fee

    def accounts(self) -> list[AccountId]:
        """The accounts this command touched, so their liquidation prices can be recomputed."""
        return list(self._touched)

    def events(self, symbol: str, ts: Millis) -> list[Event]:
        """PositionChanged and BalanceChanged for each account, in the order they were touched.

        A balance is reported whenever a fee was charged, even if a profit cancelled it out,
        because the fee is what a replay adds to the fees collected."""
        events: list[Event] = []
        for touched in self._touched.values():
            account, position = touched.account, touched.position
            if position.qty != touched.qty or position.cost != touched.cost:
                events.append(PositionChanged(account.id, symbol, position.qty, position.cost, ts))
            if account.balance != touched.balance or touched.fee:
                events.append(
                    BalanceChanged(account.id, account.balance, touched.realized, touched.fee, ts)
                )
        return events
