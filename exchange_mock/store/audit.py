"""The conservation audit, read from the read model at a quiet point.

With exact integer accounting, every trade moves Σ(balance − entry cost) by exactly zero, so at
any point the projector has caught up: Σ balances − Σ entry costs + fees collected + the
insurance fund's cash == cash seeded (equivalently, balances plus unrealized PnL at any common
mark), per symbol the positions sum to zero, and each collateral asset's holdings (the accounts'
and the fund's) sum to what was deposited. Funding moves cash between accounts, and what its
rounding leaves into the fund, so it keeps the same sum. A run that breaks any of them lost or
invented money, collateral or contracts somewhere.

The accounts audited are those the caller names plus every account the projector has seen
funded (`p:accounts`), so accounts outside the configured table (the operator's shock account)
are counted too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import cast

from redis.asyncio import Redis

from exchange_mock.store import records
from exchange_mock.store.keys import Keys
from exchange_mock.types import AccountId, Cash, Lots


@dataclass(frozen=True, slots=True)
class AuditReport:
    seeded: Cash
    balances: Cash
    entry_costs: Cash
    fees: Cash
    net_positions: dict[str, Lots] = field(default_factory=dict)
    projected_seq: int = 0
    journal_head: int = 0
    insurance_fund: Cash = 0
    """The fund's cash (it may hold collateral too: `fund_collateral`)."""
    collateral_seeded: dict[str, int] = field(default_factory=dict)
    collateral_held: dict[str, int] = field(default_factory=dict)
    """Per asset: held by the accounts and the fund together."""
    fund_collateral: dict[str, int] = field(default_factory=dict)

    @property
    def quiet(self) -> bool:
        """The read model has applied every journaled event."""
        return self.projected_seq == self.journal_head

    @property
    def cash_conserved(self) -> bool:
        cash = self.balances - self.entry_costs + self.fees + self.insurance_fund
        return cash == self.seeded

    @property
    def collateral_conserved(self) -> bool:
        return self.collateral_held == self.collateral_seeded

    @property
    def positions_balanced(self) -> bool:
        return all(net == 0 for net in self.net_positions.values())

    @property
    def passed(self) -> bool:
        return (
            self.quiet
            and self.cash_conserved
            and self.positions_balanced
            and self.collateral_conserved
        )


async def audit(redis: Redis, keys: Keys, accounts: Iterable[AccountId]) -> AuditReport:
    known = await cast(Awaitable[set[bytes]], redis.smembers(keys.accounts))
    every = sorted({*accounts, *(AccountId(int(member)) for member in known)})
    pipe = redis.pipeline(transaction=True)
    pipe.get(keys.projector_seq)
    pipe.get(keys.journal_head)
    pipe.hgetall(keys.totals)
    for account in every:
        pipe.hgetall(keys.account(account))
    projected, head, totals, *account_fields = await pipe.execute()
    balances = costs = 0
    net: dict[str, Lots] = {}
    seeded_collateral: dict[str, int] = {}
    fund_collateral: dict[str, int] = {}
    for name, raw in totals.items():
        kind, _, asset = name.decode().partition(":")
        if kind == "seeded" and asset:
            seeded_collateral[asset] = int(raw)
        elif kind == "fund" and asset:
            fund_collateral[asset] = int(raw)
    held = dict(fund_collateral)
    for fields in account_fields:
        balances += records.load_balance(fields.get(b"bal"))[0]
        for name, raw in fields.items():
            if name.startswith(b"pos:"):
                position = records.load_position(name[4:].decode(), raw)
                costs += position.cost
                net[position.symbol] = net.get(position.symbol, 0) + position.qty
            elif name.startswith(b"col:"):
                asset = name[4:].decode()
                held[asset] = held.get(asset, 0) + int(raw)
    return AuditReport(
        seeded=int(totals.get(b"seeded", 0)),
        balances=balances,
        entry_costs=costs,
        fees=int(totals.get(b"fees", 0)),
        net_positions=net,
        projected_seq=int(projected or 0),
        journal_head=int(head or 0),
        insurance_fund=int(totals.get(b"fund", 0)),
        collateral_seeded={asset: n for asset, n in seeded_collateral.items() if n},
        collateral_held={asset: n for asset, n in held.items() if n},
        fund_collateral={asset: n for asset, n in fund_collateral.items() if n},
    )
