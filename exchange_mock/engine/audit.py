"""The engine's conservation audit: what the read model's audit (`store.audit`) checks after a
run, here at any instant, so a test can check it after every command."""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange_mock.engine.state import State
from exchange_mock.types import Cash, Lots


@dataclass(frozen=True, slots=True)
class Audit:
    """Conservation at this instant: Σ balances − Σ position costs + fees + insurance fund ==
    cash seeded; every symbol's positions sum to zero; and each collateral asset's holdings
    (accounts' and the fund's) sum to what was deposited. Funding moves cash between accounts
    and, for its rounding, the fund: it changes none of the sums."""

    seeded: Cash
    balances: Cash
    costs: Cash
    fees: Cash
    net_positions: dict[str, Lots]
    insurance_fund: Cash = 0
    collateral_seeded: dict[str, int] = field(default_factory=dict)
    collateral_held: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        cash = self.balances - self.costs + self.fees + self.insurance_fund
        return (
            cash == self.seeded
            and not any(self.net_positions.values())
            and self.collateral_held == self.collateral_seeded
        )


def audit(state: State) -> Audit:
    balances = costs = 0
    net = dict.fromkeys(state.contracts, 0)
    held = {asset: holding.amount for asset, holding in state.insurance.collateral.items()}
    for account in state.accounts.values():
        balances += account.balance
        for symbol, position in account.positions.items():
            costs += position.cost
            net[symbol] += position.qty
        for asset, holding in account.collateral.items():
            held[asset] = held.get(asset, 0) + holding.amount
    return Audit(
        state.seeded,
        balances,
        costs,
        state.fees,
        net,
        state.insurance.cash,
        {asset: amount for asset, amount in state.deposited.items() if amount},
        {asset: amount for asset, amount in held.items() if amount},
    )
