"""Which accounts a mark move can liquidate (or put under a margin call), found without looking
at the others.

Every open position sits in its symbol's sorted lists under its exact liquidation price in ticks
(`risk.liquidation_ticks`), computed with the rest of its account where it stands now: longs in
one list, shorts in another. When the mark moves, the accounts at or past liquidation are the
longs whose LP ≥ mark and the shorts whose LP ≤ mark: the two lists' ends, found by bisection
whatever the number of positions. The per-mark cost is O(log n) plus the accounts actually
liquidated, instead of O(n) valuations. A second pair of lists holds each position's margin-call
price (`risk.margin_ratio_ticks` at the margin-call ratio), read the same way.

An entry stays exact while nothing it depends on moves: the account's balance, collateral and
positions (whatever changes them marks the account stale), the marks of its other symbols (a
mark update marks stale the accounts holding more than one symbol) and its collateral's price (a
price update marks stale the asset's holders). Stale accounts are recomputed together just
before the next check, so an account that trades a thousand times between two marks is
recomputed once. A replayed engine marks everything stale once and rebuilds the same lists.
"""

from __future__ import annotations

from collections.abc import Iterator

from sortedcontainers import SortedList

from exchange_mock.engine.contract import Contract
from exchange_mock.engine.positions import Account
from exchange_mock.risk import liquidation_ticks, margin_ratio_ticks
from exchange_mock.types import AccountId, Cash, Ticks

SHIFT = 32
"""A list key is (price << SHIFT) | account: integers compare fastest, and account ids fit."""
MASK = (1 << SHIFT) - 1


class PriceIndex:
    """One symbol's positions by one threshold price: a long is past it at or below it, a
    short at or above."""

    __slots__ = ("entries", "longs", "shorts")

    def __init__(self) -> None:
        self.longs = SortedList()
        self.shorts = SortedList()
        self.entries: dict[AccountId, tuple[bool, int]] = {}
        """Each indexed account's side (long?) and key."""

    def put(self, account: AccountId, price: Ticks, long: bool) -> None:
        key = price << SHIFT | account
        entry = self.entries.get(account)
        if entry == (long, key):
            return
        if entry is not None:
            (self.longs if entry[0] else self.shorts).remove(entry[1])
        (self.longs if long else self.shorts).add(key)
        self.entries[account] = (long, key)

    def discard(self, account: AccountId) -> None:
        entry = self.entries.pop(account, None)
        if entry is not None:
            (self.longs if entry[0] else self.shorts).remove(entry[1])

    def due(self, mark: Ticks) -> Iterator[AccountId]:
        """Accounts past their price at `mark`, furthest first: longs from the highest price
        down, then shorts from the lowest up. Lazy, so a caller taking the first pays
        O(log n)."""
        longs = self.longs
        first = longs.bisect_left(mark << SHIFT)
        for index in range(len(longs) - 1, first - 1, -1):
            yield AccountId(longs[index] & MASK)
        shorts = self.shorts
        for index in range(shorts.bisect_left((mark + 1) << SHIFT)):
            yield AccountId(shorts[index] & MASK)

    def holders(self, long: bool) -> list[AccountId]:
        """Every account with a position on that side, by account id."""
        return sorted(account for account, (side, _) in self.entries.items() if side is long)

    def price(self, account: AccountId) -> Ticks | None:
        entry = self.entries.get(account)
        return None if entry is None else entry[1] >> SHIFT


class SymbolWatch:
    """One symbol's positions by liquidation price and by margin-call price."""

    __slots__ = ("liquidation", "margin_call", "multi")

    def __init__(self) -> None:
        self.liquidation = PriceIndex()
        self.margin_call = PriceIndex()
        self.multi: set[AccountId] = set()
        """Accounts holding this symbol and another: their other entries use this mark."""

    def put(self, account: AccountId, long: bool, liquidation: Ticks, margin_call: Ticks) -> None:
        self.liquidation.put(account, liquidation, long)
        self.margin_call.put(account, margin_call, long)

    def discard(self, account: AccountId) -> None:
        self.liquidation.discard(account)
        self.margin_call.discard(account)
        self.multi.discard(account)


class Watch:
    """Every symbol's watch list, the accounts whose entries are stale, and the holders of each
    collateral asset (whose entries a price update makes stale)."""

    __slots__ = ("holders", "margin_call_ppm", "rebuild", "stale", "symbols")

    def __init__(self, contracts: dict[str, Contract], margin_call_ppm: int) -> None:
        self.symbols = {symbol: SymbolWatch() for symbol in contracts}
        self.margin_call_ppm = margin_call_ppm
        self.stale: set[AccountId] = set()
        self.holders: dict[str, set[AccountId]] = {}
        self.rebuild = False
        """Set by a replay: the next refresh recomputes every account."""

    def mark_moved(self, symbol: str) -> None:
        self.stale.update(self.symbols[symbol].multi)

    def repriced(self, asset: str) -> None:
        self.stale.update(self.holders.get(asset, ()))

    def refresh(self, accounts: dict[AccountId, Account]) -> None:
        """Recompute the stale accounts' entries (every account's after a replay)."""
        if self.rebuild:
            self.rebuild = False
            self.stale.update(accounts)
        if not self.stale:
            return
        for account_id in self.stale:
            self._index(accounts[account_id])
        self.stale.clear()

    def _index(self, account: Account) -> None:
        account_id = account.id
        for asset, holding in account.collateral.items():
            holders = self.holders.setdefault(asset, set())
            if holding.amount:
                holders.add(account_id)
            else:
                holders.discard(account_id)
        held: list[tuple[SymbolWatch, Contract, int, int, Cash, Cash]] = []
        unrealized = maintenance = 0
        for symbol, position in account.positions.items():
            watch = self.symbols[symbol]
            lots = position.qty
            if not lots:
                watch.discard(account_id)
                continue
            contract = position.contract
            mark = contract.mark_price() or 0
            notional = mark * lots * contract.unit
            pnl = notional - position.cost
            margin = contract.tiers.maintenance(abs(notional))
            unrealized += pnl
            maintenance += margin
            held.append((watch, contract, lots, position.cost, pnl, margin))
        if not held:
            return
        wallet = account.wallet()
        several = len(held) > 1
        for watch, contract, lots, cost, pnl, margin in held:
            cushion, others_mm = wallet + unrealized - pnl, maintenance - margin
            tiers, unit = contract.tiers, contract.unit
            liquidation = liquidation_ticks(tiers, lots, cost, unit, cushion - others_mm)
            call = margin_ratio_ticks(
                tiers, lots, cost, unit, cushion, self.margin_call_ppm, others_mm
            )
            watch.put(account_id, lots > 0, liquidation, call)
            if several:
                watch.multi.add(account_id)
            else:
                watch.multi.discard(account_id)
