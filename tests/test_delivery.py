"""Binance's quarterly calendar, on an injected clock: the last Friday of each quarter's last
month at 08:00 UTC, the current quarter rolling to the next at that instant, and the dated
names and listing dates that follow from it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from exchange_mock.delivery import (
    ContractType,
    dated_symbol,
    delivery_in,
    listing_date,
    quarterly_delivery,
)
from exchange_mock.symbols import SymbolTable

CURRENT, NEXT = ContractType.CURRENT_QUARTER, ContractType.NEXT_QUARTER


def ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("year", "month", "day"),
    [(2026, 3, 27), (2026, 6, 26), (2026, 9, 25), (2026, 12, 25), (2027, 3, 26), (2024, 6, 28)],
)
def test_delivery_is_the_last_friday_of_the_month_at_eight_utc(
    year: int, month: int, day: int
) -> None:
    assert delivery_in(year, month) == ms(year, month, day, 8)


def test_the_calendar_rolls_at_the_delivery_instant() -> None:
    december = ms(2026, 12, 25, 8)
    clock = iter([ms(2026, 10, 1), december - 1, december, ms(2026, 12, 31, 23, 59)])

    before, last_moment, at_delivery, after = (next(clock) for _ in range(4))

    assert quarterly_delivery(before, CURRENT) == december
    assert quarterly_delivery(last_moment, CURRENT) == december
    assert quarterly_delivery(last_moment, NEXT) == ms(2027, 3, 26, 8)
    # Delivered: the next quarter is now the current one, and June 2027 the next.
    assert quarterly_delivery(at_delivery, CURRENT) == ms(2027, 3, 26, 8)
    assert quarterly_delivery(at_delivery, NEXT) == ms(2027, 6, 25, 8)
    assert quarterly_delivery(after, CURRENT) == ms(2027, 3, 26, 8)


def test_a_quarter_month_after_its_delivery_rolls_within_the_year() -> None:
    assert quarterly_delivery(ms(2026, 3, 28), CURRENT) == ms(2026, 6, 26, 8)
    assert quarterly_delivery(ms(2026, 9, 30), NEXT) == ms(2027, 3, 26, 8)


def test_a_perpetual_has_no_delivery() -> None:
    with pytest.raises(ValueError, match="never delivers"):
        quarterly_delivery(ms(2026, 1, 1), ContractType.PERPETUAL)


def test_dated_names_and_listing_dates() -> None:
    december = ms(2026, 12, 25, 8)

    assert dated_symbol("BTCUSDT", december) == "BTCUSDT_261225"
    # Listed as the next quarter when the quarter two before it delivered.
    assert listing_date(december) == ms(2026, 6, 26, 8)
    assert listing_date(ms(2027, 3, 26, 8)) == ms(2026, 9, 25, 8)


def test_the_shipped_table_lists_btcusdts_quarterlies_after_the_perpetuals() -> None:
    table = SymbolTable.load()

    listed = table.listed(table.deliveries(ms(2026, 12, 6, 11)))

    assert [s.symbol for s in listed.symbols] == [
        "BTCUSDT",
        "ETHUSDT",
        "BTCUSDT_261225",
        "BTCUSDT_270326",
    ]
    current = listed.by_name["BTCUSDT_261225"]
    assert (current.pair, current.contract_type) == ("BTCUSDT", CURRENT)
    assert current.delivery_date == ms(2026, 12, 25, 8)
    assert not current.funds and listed.by_name["BTCUSDT"].funds
    assert not current.delivered(ms(2026, 12, 25, 8) - 1)
    assert current.delivered(ms(2026, 12, 25, 8))
    assert current.tick_size == listed.by_name["BTCUSDT"].tick_size
