"""Cross-margin arithmetic: the tiered brackets, initial and maintenance margin, and what an
account has left for new orders.

Cross margin pools the wallet: unrealized profit in one symbol backs positions in another, so
the available balance sums over every symbol the account holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from exchange_mock.risk import Tiers
from exchange_mock.symbols import SymbolSpec, to_cash
from exchange_mock.types import Cash

if TYPE_CHECKING:
    from exchange_mock.engine.positions import Account


def max_leverage(spec: SymbolSpec) -> int:
    """The symbol's highest leverage: the first bracket's."""
    return spec.brackets[0].max_leverage


def max_notional(spec: SymbolSpec, leverage: int) -> Cash:
    """The largest position notional allowed at `leverage`: the biggest cap among the brackets
    that still allow that leverage (0 above the symbol's maximum)."""
    return max(
        (to_cash(tier.notional_cap) for tier in spec.brackets if tier.max_leverage >= leverage),
        default=0,
    )


def maintenance_margin(spec: SymbolSpec, notional: Cash) -> Cash:
    """notional × MMR − cum of the bracket the notional falls in (the engine keeps a market's
    `Tiers` instead of rebuilding them per call)."""
    return Tiers(spec).maintenance(abs(notional))


def initial_margin(notional: Cash, leverage: int) -> Cash:
    return abs(notional) // leverage


def exposure(account: Account) -> tuple[Cash, Cash]:
    """The account's equity (wallet with collateral, plus unrealized PnL) and maintenance
    margin at the marks: the two figures its margin ratio, liquidation and ADL ranking read."""
    equity = account.wallet()
    maintenance = 0
    for position in account.positions.values():
        if position.qty:
            market = position.market
            notional = (market.mark_price() or 0) * position.qty * market.unit
            equity += notional - position.cost
            maintenance += market.tiers.maintenance(abs(notional))
    return equity, maintenance


def available(account: Account) -> Cash:
    """Wallet balance (with collateral) plus unrealized PnL, minus the initial margin of the
    positions and of the open orders: what a new order may still commit."""
    total = account.wallet()
    for position in account.positions.values():
        if position.qty:
            market = position.market
            mark = market.mark_price()
            assert mark is not None, "a position implies a trade, so a price"
            notional = mark * position.qty * market.unit
            total += notional - position.cost - abs(notional) // position.leverage
        total -= position.open_notional // position.leverage
    return total
