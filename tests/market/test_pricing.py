"""The oracle's rules: capped, live-only index; clamped funding; the median mark."""

from __future__ import annotations

import pytest

from exchange_mock.market.pricing import (
    MarkModel,
    collateral_index_price,
    funding_rate,
    index_price,
    median_mark,
)
from exchange_mock.market.venues import VenueQuote, VenueTable

NOW = 1_760_000_000_000
RULES = VenueTable.load().oracle


def quotes(*prices: float, weights: tuple[float, ...] = ()) -> list[VenueQuote]:
    weights = weights or (1.0,) * len(prices)
    return [VenueQuote(p, w, NOW) for p, w in zip(prices, weights, strict=True)]


def test_a_venue_far_from_the_median_counts_only_up_to_the_cap() -> None:
    """Binance's majority venue dumped 10%: capped at 1% below the median, its 0.513 weight
    moves the index 0.513%, not 5.13%."""
    venues = quotes(90.0, 100.0, 100.0, 100.0, weights=(0.513, 0.154, 0.2, 0.133))
    assert index_price(venues, NOW, 0.01, RULES.stale_after_ms) == pytest.approx(99.487)


def test_a_venue_silent_past_five_minutes_drops_out() -> None:
    venues = [VenueQuote(50.0, 1.0, NOW - 300_001), *quotes(100.0, 102.0)]
    assert index_price(venues, NOW, 0.03, RULES.stale_after_ms) == pytest.approx(101.0)
    assert index_price(venues[:1], NOW, 0.03, RULES.stale_after_ms) is None


@pytest.mark.parametrize(
    ("premium", "rate"),
    [
        (0.0, 0.0001),  # the interest rate alone
        (0.0003, 0.0001),  # within the clamp: the interest rate
        (0.001, 0.0005),  # premium beyond the clamp: premium − 0.05%
        (-0.01, -0.003),  # capped
    ],
)
def test_funding_is_the_premium_plus_the_clamped_interest_difference(
    premium: float, rate: float
) -> None:
    assert funding_rate(premium, RULES) == pytest.approx(rate)


def test_the_mark_is_the_median_of_its_components() -> None:
    assert median_mark(100.0, 101.0, 50.0) == 100.0
    assert median_mark(100.0, 101.0, None) == 100.5


def test_a_dumped_last_price_barely_moves_the_index_mark() -> None:
    """Index 100; the book's mid sat at 100 for 29 seconds and at 90 for one: P2 = 100 − 1/3,
    the last trade is 90, P1 about 100: the median is P2."""
    model = MarkModel(RULES)
    for second in range(29):
        model.observe(NOW + second * 1_000, 100.0, 100.0)
    model.observe(NOW + 29_000, 100.0, 90.0)
    mark = model.mark(NOW + 29_000, 100.0, 90.0)
    assert mark == pytest.approx(100 - 10 / 30)


def test_samples_are_taken_once_a_second() -> None:
    """The second observation comes too soon and is ignored: P2 stays index − 10, which is the
    median between P1 (about the index) and a last price of 50 (with it, P2 would be 75)."""
    model = MarkModel(RULES)
    model.observe(NOW, 100.0, 90.0)
    model.observe(NOW + 500, 100.0, 50.0)
    assert model.mark(NOW + 500, 100.0, 50.0) == pytest.approx(90.0)


def test_collateral_in_index_mode_stays_between_the_floor_and_the_redemption_rate() -> None:
    assert collateral_index_price(0.65, 0.97, 1.0) == 0.97
    assert collateral_index_price(1.02, 0.97, 1.0) == 1.0
    assert collateral_index_price(0.99, 0.97, 1.0) == 0.99
