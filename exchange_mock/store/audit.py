"""The conservation audit, read from the read model at a quiet point.

With exact integer accounting, every trade moves Σ(balance − entry cost) by exactly zero, so at
any point the projector has caught up: Σ balances − Σ entry costs + fees collected == cash seeded
(equivalently, balances plus unrealized PnL at any common mark), and per symbol the positions sum
to zero. A run that breaks either lost or invented money or contracts somewhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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

    @property
    def quiet(self) -> bool:
        """The read model has applied every journaled event."""
        return self.projected_seq == self.journal_head

    @property
    def cash_conserved(self) -> bool:
        return self.balances - self.entry_costs + self.fees == self.seeded

    @property
    def positions_balanced(self) -> bool:
        return all(net == 0 for net in self.net_positions.values())

    @property
    def passed(self) -> bool:
        return self.quiet and self.cash_conserved and self.positions_balanced


async def audit(redis: Redis, keys: Keys, accounts: Iterable[AccountId]) -> AuditReport:
    pipe = redis.pipeline(transaction=True)
    pipe.get(keys.projector_seq)
    pipe.get(keys.journal_head)
    pipe.hgetall(keys.totals)
    for account in accounts:
        pipe.hgetall(keys.account(account))
    projected, head, totals, *account_fields = await pipe.execute()
    balances = costs = 0
    net: dict[str, Lots] = {}
    for fields in account_fields:
        balances += records.load_balance(fields.get(b"bal"))[0]
        for name, raw in fields.items():
            if name.startswith(b"pos:"):
                position = records.load_position(name[4:].decode(), raw)
                costs += position.cost
                net[position.symbol] = net.get(position.symbol, 0) + position.qty
    return AuditReport(
        seeded=int(totals.get(b"seeded", 0)),
        balances=balances,
        entry_costs=costs,
        fees=int(totals.get(b"fees", 0)),
        net_positions=net,
        projected_seq=int(projected or 0),
        journal_head=int(head or 0),
    )
