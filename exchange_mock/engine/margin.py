"""An account's cross-margin figures: its equity and maintenance margin at the marks, and what
it has left for new orders (the per-position arithmetic is `risk.py`'s, shared with the API).

Cross margin pools the wallet: unrealized profit in one symbol backs positions in another, so
the available balance sums over every symbol the account holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange_mock.types import Cash

if TYPE_CHECKING:
    from exchange_mock.engine.positions import Account


def exposure(account: Account) -> tuple[Cash, Cash]:
    """The account's equity (wallet with collateral, plus unrealized PnL) and maintenance
    margin at the marks: the two figures its margin ratio, liquidation and ADL ranking read."""
    equity = account.wallet()
    maintenance = 0
    for position in account.positions.values():
        if position.qty:
            contract = position.contract
            notional = (contract.mark_price() or 0) * position.qty * contract.unit
            equity += notional - position.cost
            maintenance += contract.tiers.maintenance(abs(notional))
    return equity, maintenance


def available(account: Account) -> Cash:
    """Wallet balance (with collateral) plus unrealized PnL, minus the initial margin of the
    positions and of the open orders: what a new order may still commit."""
    total = account.wallet()
    for position in account.positions.values():
        if position.qty:
            contract = position.contract
            mark = contract.mark_price()
            assert mark is not None, "a position implies a trade, so a price"
            notional = mark * position.qty * contract.unit
            total += notional - position.cost - abs(notional) // position.leverage
        total -= position.open_notional // position.leverage
    return total
