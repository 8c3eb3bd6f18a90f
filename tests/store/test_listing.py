"""The dated contracts are fixed by the first start on a store: a restart on the same store,
even after a delivery, lists the contracts its positions are in (real Redis)."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from exchange_mock.delivery import ContractType
from exchange_mock.store.keys import Keys
from exchange_mock.store.listing import settle_listing
from exchange_mock.symbols import QuarterlySeries, SymbolTable

SHIPPED = SymbolTable.load()


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


def dated(table: SymbolTable) -> list[str]:
    return [s.symbol for s in table.symbols if s.delivery_date is not None]


async def test_a_restart_after_delivery_keeps_the_first_starts_contracts(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)

    first = await settle_listing(redis, keys, SHIPPED, ms(2026, 12, 6))
    again = await settle_listing(redis, keys, SHIPPED, ms(2027, 1, 15))

    assert dated(first) == dated(again) == ["BTCUSDT_261225", "BTCUSDT_270326"]
    # A fresh store dates them by its own clock.
    fresh = await settle_listing(redis, Keys(key_prefix + "-fresh"), SHIPPED, ms(2027, 1, 15))
    assert dated(fresh) == ["BTCUSDT_270326", "BTCUSDT_270625"]


async def test_a_contract_type_added_since_is_dated_by_the_restarting_clock(
    redis: Redis, key_prefix: str
) -> None:
    keys = Keys(key_prefix)
    current_only = SHIPPED.model_copy(
        update={
            "quarterlies": (
                QuarterlySeries(pair="BTCUSDT", contract_types=(ContractType.CURRENT_QUARTER,)),
            )
        }
    )
    await settle_listing(redis, keys, current_only, ms(2026, 12, 6))

    both = await settle_listing(redis, keys, SHIPPED, ms(2027, 1, 15))

    assert dated(both) == ["BTCUSDT_261225", "BTCUSDT_270625"]


async def test_a_table_without_quarterlies_writes_nothing(redis: Redis, key_prefix: str) -> None:
    keys = Keys(key_prefix)
    perpetuals = SHIPPED.model_copy(update={"quarterlies": ()})

    assert await settle_listing(redis, keys, perpetuals, ms(2026, 12, 6)) is perpetuals
    assert await redis.exists(keys.listing) == 0
