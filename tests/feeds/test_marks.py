"""The mark price streams' beat: every second for `@1s`, every third second for the rest."""

from __future__ import annotations

from exchange_mock.feeds.marks import Mark, MarkBoard

T0 = 1_700_000_002_000
"""A whole second one past a multiple of three seconds."""


def test_nothing_beats_before_a_mark_is_known() -> None:
    board = MarkBoard()
    assert board.due(T0) == []
    board.update("BTCUSDT", Mark(1_000_000, T0 - 5))
    assert board.due(T0 + 10) == [True]


def test_fast_streams_beat_once_a_second_and_slow_ones_every_third_second() -> None:
    board = MarkBoard()
    board.update("BTCUSDT", Mark(1_000_000, T0))
    beats = {now: board.due(now) for now in range(T0, T0 + 6_000, 50)}
    fired = {now: variants for now, variants in beats.items() if variants}
    assert list(fired) == [T0, T0 + 1_000, T0 + 2_000, T0 + 3_000, T0 + 4_000, T0 + 5_000]
    slow = [now for now, variants in fired.items() if False in variants]
    assert slow == [T0 + 2_000, T0 + 5_000]
    assert all(now // 1_000 % 3 == 0 for now in slow)


def test_a_late_call_beats_once_not_for_every_missed_second() -> None:
    """A publisher busy for three seconds sends the current marks once, not three stale beats."""
    board = MarkBoard()
    board.update("BTCUSDT", Mark(1_000_000, T0))
    assert board.due(T0) == [True]
    assert board.due(T0 + 3_500) in ([True], [True, False])
    assert board.due(T0 + 3_900) == []
    assert board.next_due(T0 + 3_900) == T0 + 4_000


def test_the_latest_mark_and_its_journal_time_are_kept() -> None:
    board = MarkBoard()
    board.update("BTCUSDT", Mark(1_000_000, T0))
    board.update("BTCUSDT", Mark(1_000_100, T0 + 400))
    board.update("ETHUSDT", Mark(40_000, T0 + 200))
    assert board.prices() == {"BTCUSDT": 1_000_100, "ETHUSDT": 40_000}
    assert board.marks["BTCUSDT"].time == T0 + 400
