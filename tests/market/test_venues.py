"""Simulated venues: seeded walks, square-root impact, decaying dislocations, silence."""

from __future__ import annotations

import random

import pytest

from exchange_mock.errors import ConfigError
from exchange_mock.market.venues import VenueSet, VenueTable

T0 = 1_760_000_000_000


@pytest.fixture(scope="module")
def table() -> VenueTable:
    return VenueTable.load()


def usde(table: VenueTable, seed: int = 1) -> VenueSet:
    spec = table.get("USDEUSDT")
    assert spec is not None
    return VenueSet(spec, 1.0, random.Random(seed), T0)


def test_the_shipped_btc_weights_are_binances_example(table: VenueTable) -> None:
    btc = table.get("BTCUSDT")
    assert btc is not None
    weights = {venue.name: float(venue.weight) for venue in btc.venues}
    assert weights["binance"] == 0.513 and weights["coinbase"] == 0.154
    assert sum(weights.values()) == pytest.approx(1.0, abs=0.002)


def test_the_same_seed_walks_the_same_path(table: VenueTable) -> None:
    first, second = usde(table, 5), usde(table, 5)
    for step in range(1, 50):
        first.step(T0 + step * 1_000)
        second.step(T0 + step * 1_000)
    assert first.quotes() == second.quotes()


def test_a_sale_moves_its_venue_by_the_square_root_law(table: VenueTable) -> None:
    """The own USDE book moves 1% for 50,000 USDT sold, so 4x the size moves it 2% and the
    October dump of 60M about 35% (USDe printed 0.65 on one venue)."""
    venues = usde(table)
    assert venues.trade(-50_000) == pytest.approx(-0.01)
    assert usde(table).trade(-200_000) == pytest.approx(-0.02)
    october = usde(table)
    october.trade(-60_000_000)
    assert october.own_price() == pytest.approx(0.654, abs=0.001)
    others = [q.price for q in october.quotes()[1:]]
    assert all(price == pytest.approx(1.0, abs=1e-3) for price in others)


def test_a_dislocation_halves_every_half_life(table: VenueTable) -> None:
    venues = usde(table)
    venues.venue("stampede").noise = 0.0
    venues.move(-20.0, "stampede")
    before = venues.venue("stampede").dislocation
    venues.step(T0 + int(venues.spec.recovery_half_life_s * 1000))
    assert venues.venue("stampede").dislocation == pytest.approx(before / 2)


def test_a_move_with_no_venue_moves_the_whole_market_for_good(table: VenueTable) -> None:
    venues = usde(table)
    venues.move(-10.0, everywhere=True)
    assert venues.common == pytest.approx(0.9)
    assert all(venue.dislocation == 0 for venue in venues.venues.values())


def test_a_silent_venue_stops_updating(table: VenueTable) -> None:
    venues = usde(table)
    venues.silence("curve")
    venues.step(T0 + 10_000)
    times = {venue.name: venue.updated_ms for venue in venues.venues.values()}
    assert times["curve"] == T0 and times["bybit"] == T0 + 10_000


def test_an_unknown_venue_is_refused(table: VenueTable) -> None:
    with pytest.raises(ConfigError):
        usde(table).trade(-1.0, "nowhere")
