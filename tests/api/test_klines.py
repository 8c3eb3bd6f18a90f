"""Klines of every interval from one-minute bars: Binance's openings, quiet intervals carried
flat at the last close, nothing before the listing."""

from __future__ import annotations

from datetime import UTC, datetime

from exchange_mock.api.klines import MINUTE_MS, following, klines, opening, openings
from exchange_mock.store.views import BarView


def _ms(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc]


T0 = _ms(2026, 12, 6, 8, 0)


def _bar(minute: int, open_: int, high: int, low: int, close: int, volume: int) -> BarView:
    count = 1 if volume else 0
    return BarView(
        T0 + minute * MINUTE_MS, open_, high, low, close, volume, volume * 10, count, 0, 0
    )


def test_intervals_open_where_binance_opens_them() -> None:
    ts = _ms(2026, 12, 6, 8, 47, 13)  # a Sunday
    assert opening("1m", ts) == _ms(2026, 12, 6, 8, 47)
    assert opening("15m", ts) == _ms(2026, 12, 6, 8, 45)
    assert opening("4h", ts) == _ms(2026, 12, 6, 8, 0)
    assert opening("1d", ts) == _ms(2026, 12, 6)
    assert opening("1w", ts) == _ms(2026, 11, 30)  # the Monday before
    assert opening("1M", ts) == _ms(2026, 12, 1)
    assert following("1M", _ms(2026, 12, 1)) == _ms(2027, 1, 1)


def test_openings_page_from_start_or_back_from_end() -> None:
    now = T0 + 10 * MINUTE_MS + 5
    assert openings("1m", T0 + 1, None, 3, now) == [T0 + MINUTE_MS * k for k in (1, 2, 3)]
    assert openings("1m", None, None, 2, now) == [T0 + 9 * MINUTE_MS, T0 + 10 * MINUTE_MS]
    assert openings("5m", None, T0 + 7 * MINUTE_MS, 2, now) == [T0, T0 + 5 * MINUTE_MS]
    assert openings("1m", T0 + 11 * MINUTE_MS, None, 5, now) == []


def test_bars_merge_into_longer_klines_and_quiet_intervals_carry_the_close() -> None:
    bars = [
        _bar(0, 100, 100, 100, 100, 0),
        _bar(1, 100, 120, 90, 110, 3),
        _bar(2, 110, 115, 105, 105, 2),
    ]
    opens = [T0 - 5 * MINUTE_MS, T0, T0 + 5 * MINUTE_MS]

    built = klines("5m", opens, bars)

    # Nothing before the listing; the first five minutes' trades merged (the listing's flat
    # minute is no trade); the next five quiet and flat at the last close.
    assert [k.bar.open_time for k in built] == [T0, T0 + 5 * MINUTE_MS]
    merged, quiet = built
    assert (merged.bar.open, merged.bar.high, merged.bar.low, merged.bar.close) == (
        100,
        120,
        90,
        105,
    )
    assert (merged.bar.volume, merged.bar.count, merged.close_time) == (
        5,
        2,
        T0 + 5 * MINUTE_MS - 1,
    )
    assert (quiet.bar.open, quiet.bar.high, quiet.bar.low, quiet.bar.close) == (105,) * 4
    assert quiet.bar.volume == 0


def test_an_interval_of_quiet_minutes_is_flat_at_their_price() -> None:
    [listing] = klines("1h", [T0], [_bar(0, 100, 100, 100, 100, 0), _bar(3, 100, 100, 100, 100, 0)])
    assert (listing.bar.open, listing.bar.high, listing.bar.volume) == (100, 100, 0)


def test_a_bar_before_the_first_opening_carries_into_it() -> None:
    built = klines("1m", [T0 + 3 * MINUTE_MS], [_bar(1, 100, 130, 100, 125, 1)])
    [only] = built
    assert (only.bar.open, only.bar.close, only.bar.count) == (125, 125, 0)
