from __future__ import annotations

from decimal import Decimal

import pytest

from loadtests.report.units import change, millis, moment, money, multiple, num, seconds, share


@pytest.mark.parametrize(
    ("value", "text"),
    [(2500, "2,500"), (139.2, "139"), (71.428, "71.4"), (0.0142, "0.0142"), (5, "5")],
)
def test_numbers_keep_three_significant_digits_and_separate_thousands(
    value: float, text: str
) -> None:
    assert num(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0%"),
        (0.004, "0.4%"),
        (0.0025, "0.25%"),
        (0.4002, "40%"),
        (1, "100%"),
        (3e-6, "<0.001%"),
    ],
)
def test_shares_read_as_percentages_without_exponents(value: float, text: str) -> None:
    assert share(value) == text


def test_durations_switch_to_seconds_from_one_second() -> None:
    assert (millis(337.15), millis(4509.7), millis(1000)) == ("337 ms", "4.51 s", "1 s")


def test_multiples_and_changes() -> None:
    assert multiple(20) == "20×"
    assert (change(20, 50), change(50, 20), change(5, 5), change(0, 3)) == (
        "+150%",
        "−60%",
        "±0%",
        "new",
    )


def test_money_keeps_every_place_the_venue_keeps_with_separators() -> None:
    assert money(Decimal("30130938662.57000000"), "USDT") == "30,130,938,662.57000000 USDT"
    assert money(Decimal("0.00000000"), "USDT") == "0.00000000 USDT"


def test_times_read_as_times() -> None:
    assert seconds(0.05) == "50 ms"
    assert seconds(10) == "10 s"
    assert moment(1_760_130_000) == "2025-10-10 21:00:00 UTC"
