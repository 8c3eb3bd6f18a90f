"""Binance's forceOrder snapshot rule, and the truth counter that shows what it hides."""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from exchange_mock.feeds.throttle import ForceOrderThrottle, Liquidation
from exchange_mock.types import Side

T0 = 1_700_000_000_000
"""A window boundary (a multiple of 1000 ms)."""


def liquidation(symbol: str, time: int, qty: int = 1) -> Liquidation:
    return Liquidation(symbol, Side.SELL, qty, 1_000_000, qty, qty * 10**8, time)


def test_n_liquidations_of_one_symbol_in_one_second_push_one_message_the_latest() -> None:
    throttle = ForceOrderThrottle()
    offered = [liquidation("BTCUSDT", T0 + 10 * i, qty=i + 1) for i in range(50)]
    for item in offered:
        assert throttle.offer(item) == []
    assert throttle.due(T0 + 999) == []
    assert throttle.due(T0 + 1_000) == [offered[-1]]
    assert throttle.truth["BTCUSDT"] == 50
    assert throttle.pushed["BTCUSDT"] == 1


def test_two_symbols_are_throttled_independently() -> None:
    throttle = ForceOrderThrottle()
    btc = [liquidation("BTCUSDT", T0 + i) for i in range(5)]
    eth = [liquidation("ETHUSDT", T0 + 500 + i) for i in range(3)]
    for item in btc + eth:
        throttle.offer(item)
    assert throttle.due(T0 + 1_000) == [btc[-1], eth[-1]]
    assert (throttle.truth["BTCUSDT"], throttle.truth["ETHUSDT"]) == (5, 3)
    assert (throttle.pushed["BTCUSDT"], throttle.pushed["ETHUSDT"]) == (1, 1)


def test_an_empty_window_sends_nothing() -> None:
    throttle = ForceOrderThrottle()
    assert throttle.due(T0 + 5_000) == []
    assert throttle.next_due() is None
    throttle.offer(liquidation("BTCUSDT", T0 + 1))
    assert len(throttle.due(T0 + 1_000)) == 1
    for later in range(2_000, 10_000, 250):
        assert throttle.due(T0 + later) == []
    assert throttle.pushed["BTCUSDT"] == 1


def test_a_liquidation_in_a_later_window_pushes_the_previous_window_at_once() -> None:
    """The journal has moved past the window's end: no need to wait for the clock."""
    throttle = ForceOrderThrottle()
    first, second = liquidation("BTCUSDT", T0 + 100), liquidation("BTCUSDT", T0 + 1_200)
    throttle.offer(first)
    assert throttle.offer(second) == [first]
    assert throttle.due(T0 + 1_999) == []
    assert throttle.due(T0 + 2_000) == [second]


def test_a_late_liquidation_joins_the_next_window_instead_of_pushing_its_own_twice() -> None:
    """A journal time inside an already pushed window (clocks of several API workers disagree
    a little) must not make the symbol's feed show two messages in one interval."""
    throttle = ForceOrderThrottle()
    throttle.offer(liquidation("BTCUSDT", T0 + 900))
    assert len(throttle.due(T0 + 1_000)) == 1
    late = liquidation("BTCUSDT", T0 + 950)
    assert throttle.offer(late) == []
    assert throttle.due(T0 + 1_500) == []
    assert throttle.next_due() == T0 + 2_000
    assert throttle.due(T0 + 2_000) == [late]


def test_the_window_is_configurable() -> None:
    throttle = ForceOrderThrottle(interval_ms=250)
    for i in range(10):
        throttle.offer(liquidation("BTCUSDT", T0 + 100 * i))
    throttle.due(T0 + 1_000)
    assert throttle.pushed["BTCUSDT"] == 4
    with pytest.raises(ValueError, match="positive"):
        ForceOrderThrottle(interval_ms=0)


@pytest.mark.parametrize("seed", range(5))
def test_pushed_snapshots_are_exactly_the_latest_of_each_symbols_nonempty_windows(
    seed: int,
) -> None:
    """Against a brute-force model, with the clock advancing between bursts as a publisher's
    would: one message per non-empty (symbol, window), always the window's last liquidation."""
    rng = random.Random(seed)
    throttle = ForceOrderThrottle()
    time, pushed, expected = T0, [], defaultdict(list)
    for _ in range(400):
        time += rng.choice((0, 1, 7, 130, 800, 2_500))
        item = liquidation(rng.choice(("BTCUSDT", "ETHUSDT", "SOLUSDT")), time, rng.randint(1, 9))
        expected[(item.symbol, time // 1_000)].append(item)
        pushed += throttle.offer(item)
        pushed += throttle.due(time)
    pushed += throttle.due(time + 1_000)
    assert sorted(pushed, key=lambda i: (i.symbol, i.time)) == sorted(
        (items[-1] for items in expected.values()), key=lambda i: (i.symbol, i.time)
    )
    assert sum(throttle.truth.values()) == 400
    assert sum(throttle.pushed.values()) == len(expected)
