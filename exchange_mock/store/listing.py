"""Which dated contracts the exchange lists, fixed once for the life of its store.

The quarterlies' names and delivery dates follow the calendar, so a process starting later would
date them differently: a restart on the same data after a delivery would list a new contract and
orphan the positions held in the old one. So the first process to start writes the delivery
calendar to `p:listing` (only if no one has), and every process, now and after any restart on
the same store, lists the contracts that key names. A contract type the key lacks (one added to
the table since) is dated from the starting process's clock and added to it.
"""

from __future__ import annotations

from pydantic import TypeAdapter
from redis.asyncio import Redis

from exchange_mock.delivery import ContractType
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import Millis

CALENDAR = TypeAdapter(dict[ContractType, int])
"""`p:listing`: each quarterly contract type's delivery date (ms), as JSON."""


async def settle_listing(redis: Redis, keys: Keys, table: SymbolTable, now: Millis) -> SymbolTable:
    """The table with its quarterlies dated by the store's calendar, written first if the store
    has none (or lacks one of the table's contract types)."""
    if not table.quarterlies:
        return table
    proposed = table.deliveries(now)
    await redis.set(keys.listing, CALENDAR.dump_json(proposed), nx=True)
    stored = CALENDAR.validate_json(await redis.get(keys.listing) or b"{}")
    if proposed.keys() - stored.keys():
        stored = {**proposed, **stored}
        await redis.set(keys.listing, CALENDAR.dump_json(stored))
    return table.listed(stored)
