"""Binance's quarterly delivery calendar: when a dated contract delivers, what it is called, and
when it was listed.

Binance delivers its USDⓈ-M quarterlies on the last Friday of March, June, September and
December at 08:00 UTC. At any moment two are trading: the CURRENT_QUARTER (the first delivery
still ahead) and the NEXT_QUARTER (the one after); when the current one delivers, the next takes
its place and a new next quarter is listed. A dated contract is named for its pair and its
delivery day, `BTCUSDT_261225`.

Pure: the time is always passed in, so the calendar rolls with whichever clock the caller has.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from exchange_mock.types import Millis

DELIVERY_HOUR_UTC = 8
QUARTER_MONTHS = (3, 6, 9, 12)
FRIDAY = 4


class ContractType(StrEnum):
    """Binance's `contractType`; the quarterlies know how many deliveries ahead they are."""

    PERPETUAL = "PERPETUAL"
    CURRENT_QUARTER = "CURRENT_QUARTER"
    NEXT_QUARTER = "NEXT_QUARTER"

    @property
    def quarters_ahead(self) -> int:
        """0 for the current quarter, 1 for the next; a perpetual has no delivery."""
        if self is ContractType.PERPETUAL:
            raise ValueError("a perpetual contract never delivers")
        return 0 if self is ContractType.CURRENT_QUARTER else 1


def delivery_in(year: int, month: int) -> Millis:
    """08:00 UTC on the last Friday of the month."""
    last = datetime(year, month, calendar.monthrange(year, month)[1], DELIVERY_HOUR_UTC, tzinfo=UTC)
    day = last - timedelta(days=(last.weekday() - FRIDAY) % 7)
    return int(day.timestamp() * 1000)


def _quarter_after(year: int, month: int, quarters: int) -> tuple[int, int]:
    """The last month of the quarter `quarters` quarters after the one (year, month) is in."""
    index = year * 4 + (month - 1) // 3 + quarters
    return index // 4, QUARTER_MONTHS[index % 4]


def quarterly_delivery(now: Millis, contract_type: ContractType) -> Millis:
    """The delivery of the contract trading as `contract_type` at `now`: the first quarterly
    delivery strictly after `now` for the current quarter, the one after that for the next.
    At the delivery instant itself the contract has delivered and the calendar has rolled."""
    today = datetime.fromtimestamp(now / 1000, UTC)
    year, month = _quarter_after(today.year, today.month, 0)
    if delivery_in(year, month) <= now:
        year, month = _quarter_after(year, month, 1)
    return delivery_in(*_quarter_after(year, month, contract_type.quarters_ahead))


def listing_date(delivery: Millis) -> Millis:
    """When Binance lists the contract delivering at `delivery`: as the next quarter, at the
    delivery two quarters before its own."""
    day = datetime.fromtimestamp(delivery / 1000, UTC)
    return delivery_in(*_quarter_after(day.year, day.month, -2))


def dated_symbol(pair: str, delivery: Millis) -> str:
    """`BTCUSDT_261225`: the pair and the delivery day (UTC, YYMMDD)."""
    return f"{pair}_{datetime.fromtimestamp(delivery / 1000, UTC):%y%m%d}"
