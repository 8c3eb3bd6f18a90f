from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from loadtests.report.build import load_report
from loadtests.report.cascade import PriceKind, by_symbol, liquidation_rates, price_moves
from loadtests.results import MarketSample


def _sample(at: float, mark: str | None, true: int | None, feed: int) -> MarketSample:
    return MarketSample(
        at=at,
        symbol="BTCUSDT",
        price=Decimal("100"),
        mark=None if mark is None else Decimal(mark),
        index=None,
        liquidations=true,
        feed_liquidations=feed,
    )


def test_prices_are_drawn_as_their_move_from_the_first_sample(sampled_cascade_run: Path) -> None:
    samples = load_report(sampled_cascade_run).timeline

    moves = price_moves(samples)

    btc = moves["BTCUSDT", PriceKind.LAST]
    assert btc.times == [0.0, 100.0, 350.0, 360.0]
    assert btc.moves == pytest.approx([0, 0, -5, -8])
    assert btc.prices == ["122500.0", "122500.0", "116375.0", "112700.0"]
    assert moves["BTCUSDT", PriceKind.INDEX].moves[-1] == pytest.approx(-7)
    assert moves["ETHUSDT", PriceKind.MARK].moves == pytest.approx([0, 0, -1, -1])


def test_a_price_missing_from_a_sample_is_a_gap_and_from_every_sample_no_line() -> None:
    samples = [_sample(0, None, 0, 0), _sample(1, "200", 0, 0), _sample(2, None, 0, 0)]
    samples.append(_sample(3, "150", 0, 0))

    moves = price_moves(samples)

    # The first mark read is the reference, whenever it came.
    assert moves["BTCUSDT", PriceKind.MARK].moves == [None, 0.0, None, -25.0]
    assert ("BTCUSDT", PriceKind.INDEX) not in moves


def test_liquidations_per_second_are_true_against_the_feed_between_samples(
    sampled_cascade_run: Path,
) -> None:
    rates = liquidation_rates(load_report(sampled_cascade_run).timeline)

    btc = rates["BTCUSDT"]
    assert btc.times == [100.0, 350.0, 360.0]
    assert btc.true == pytest.approx([0, 2, 100])
    assert btc.feed == pytest.approx([0, 0.1, 1])
    assert rates["ETHUSDT"].true == [0, 0, 0]


def test_seconds_without_the_truth_counter_are_gaps_and_a_missed_second_loses_no_count() -> None:
    samples = [_sample(0, "1", 0, 0), _sample(1, "1", None, 1), _sample(3, "1", 8, 5)]

    rates = liquidation_rates(samples)["BTCUSDT"]

    assert rates.times == [1, 3]
    assert rates.true == [None, None]
    assert rates.feed == [1, 2]  # four events over the two seconds since the last sample


def test_samples_are_grouped_per_symbol_in_the_order_first_seen(
    sampled_cascade_run: Path,
) -> None:
    grouped = by_symbol(load_report(sampled_cascade_run).timeline)

    assert list(grouped) == ["BTCUSDT", "ETHUSDT"]
    assert [sample.at for sample in grouped["ETHUSDT"]] == [0, 100, 350, 360]
