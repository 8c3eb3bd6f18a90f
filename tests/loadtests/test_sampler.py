from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx
import orjson
import pytest

from loadtests.results import MarketSample
from loadtests.sampler import PREMIUM, TICKER, FeedCount, MarketSampler, prices
from loadtests.users.feeds import TRUTH
from tests.loadtests.fakes import FakeClock

SYMBOLS = ("BTCUSDT", "ETHUSDT")


def test_prices_are_read_per_symbol_from_a_list_or_a_single_answer() -> None:
    every = [
        {"symbol": "BTCUSDT", "markPrice": "104783.10", "indexPrice": "104790.00"},
        {"symbol": "ETHUSDT", "markPrice": "3790.55", "indexPrice": "3791.00"},
    ]
    assert prices(every, "markPrice") == {
        "BTCUSDT": Decimal("104783.10"),
        "ETHUSDT": Decimal("3790.55"),
    }
    assert prices({"symbol": "BTCUSDT", "price": "122574.5"}, "price") == {
        "BTCUSDT": Decimal("122574.5")
    }


def test_no_price_is_made_up_from_a_zero_a_garbled_value_or_an_error_answer() -> None:
    answer = [
        {"symbol": "BTCUSDT", "price": "0"},  # no trade yet
        {"symbol": "ETHUSDT", "price": "n/a"},
        {"symbol": "SOLUSDT", "price": 187.2},  # Binance sends prices as strings
        "junk",
    ]
    assert prices(answer, "price") == {}
    assert prices({"code": -1121, "msg": "Invalid symbol."}, "price") == {}
    assert prices(None, "price") == {}


def _force_order(symbol: str) -> dict[str, Any]:
    return {"e": "forceOrder", "E": 1_000, "o": {"s": symbol, "S": "SELL", "q": "0.1"}}


def test_the_feed_count_counts_liquidation_events_per_symbol_raw_or_combined() -> None:
    feed = FeedCount()
    feed.message(orjson.dumps(_force_order("BTCUSDT")), 1.0)
    feed.message(orjson.dumps({"stream": "!forceOrder@arr", "data": _force_order("BTCUSDT")}), 2.0)
    feed.message(orjson.dumps([_force_order("ETHUSDT")]), 3.0)
    feed.message(orjson.dumps({"e": "markPriceUpdate", "E": 1, "s": "BTCUSDT", "p": "1"}), 4.0)
    feed.message(orjson.dumps({"result": None, "id": 1}), 5.0)
    assert feed.counts == {"BTCUSDT": 2, "ETHUSDT": 1}


class Target:
    """A target answering the sampler's reads from tables a test changes between samples."""

    def __init__(self, truth_status: int = 200) -> None:
        self.last = {"BTCUSDT": "100000.0", "ETHUSDT": "4000.00"}
        self.marks = {"BTCUSDT": "100010.0", "ETHUSDT": "4001.00"}
        self.truth = {"BTCUSDT": 40, "ETHUSDT": 3}
        self.truth_status = truth_status
        self.failing: set[str] = set()
        self.asked: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.asked.append(path)
        if path in self.failing:
            raise httpx.ConnectError("refused", request=request)
        if path == TICKER:
            body: Any = [{"symbol": s, "price": p} for s, p in self.last.items()]
        elif path == PREMIUM:
            body = [
                {"symbol": s, "markPrice": p, "indexPrice": self.last[s]}
                for s, p in self.marks.items()
            ]
        elif path == TRUTH and self.truth_status == 200:
            body = {"symbols": {s: {"count": n} for s, n in self.truth.items()}, "total": {}}
        else:
            return httpx.Response(self.truth_status, json={"detail": "Not Found"})
        return httpx.Response(200, json=body)


def _sampler(
    target: Target,
    feed: FeedCount | None = None,
    *,
    clock: FakeClock | None = None,
    write: Callable[[Sequence[MarketSample]], None] = lambda samples: None,
) -> MarketSampler:
    clock = clock or FakeClock()
    http = httpx.Client(base_url="http://target", transport=httpx.MockTransport(target.handle))
    return MarketSampler(
        http,
        SYMBOLS,
        feed or FeedCount(),
        write,
        origin=1000.0,
        duration=3.0,
        clock=clock,
        sleep=clock.sleep,
    )


def test_a_sample_holds_each_symbols_prices_and_liquidations_since_the_first_sample() -> None:
    target, feed = Target(), FeedCount()
    feed.counts = {"BTCUSDT": 2}
    sampler = _sampler(target, feed)
    first = sampler.sample(0.0)
    target.truth = {"BTCUSDT": 52, "ETHUSDT": 3}
    target.marks["BTCUSDT"] = "92009.2"
    feed.counts = {"BTCUSDT": 5}

    btc, eth = sampler.sample(1.0)

    assert [(s.symbol, s.liquidations, s.feed_liquidations) for s in first] == [
        ("BTCUSDT", 0, 0),
        ("ETHUSDT", 0, 0),
    ]
    assert btc == MarketSample(
        at=1.0,
        symbol="BTCUSDT",
        price=Decimal("100000.0"),
        mark=Decimal("92009.2"),
        index=Decimal("100000.0"),
        liquidations=12,
        feed_liquidations=3,
    )
    assert (eth.liquidations, eth.feed_liquidations) == (0, 0)


def test_a_target_without_a_truth_counter_is_asked_once_and_the_feed_still_counts() -> None:
    target, feed = Target(truth_status=404), FeedCount()
    sampler = _sampler(target, feed)
    sampler.sample(0.0)
    feed.counts = {"BTCUSDT": 1}

    btc, _ = sampler.sample(1.0)

    assert target.asked.count(TRUTH) == 1
    assert (btc.liquidations, btc.feed_liquidations) == (None, 1)
    assert btc.mark == Decimal("100010.0")


def test_a_read_that_fails_leaves_its_fields_out_of_that_sample_only() -> None:
    target = Target()
    sampler = _sampler(target)
    target.failing = {PREMIUM, TRUTH}

    btc, _ = sampler.sample(0.0)
    target.failing = set()
    target.truth = {"BTCUSDT": 45, "ETHUSDT": 3}
    later, _ = sampler.sample(1.0)

    assert (btc.price, btc.mark, btc.index, btc.liquidations) == (
        Decimal("100000.0"),
        None,
        None,
        None,
    )
    # The count starts from the first read of it, not from zero.
    assert later.mark is not None and later.liquidations == 0


def test_the_sampler_samples_each_run_second_to_the_end_skipping_seconds_it_was_late_for() -> None:
    clock = FakeClock(998.5)
    written: list[Sequence[MarketSample]] = []
    target = Target()

    def write(samples: Sequence[MarketSample]) -> None:
        written.append(samples)
        if len(written) == 2:
            clock.now += 1.2  # the sample of run second 1 took until 2.2

    _sampler(target, clock=clock, write=write).run()

    # Run second 2 has passed by then: the next sample is second 3's, on time, and the last.
    assert [samples[0].at for samples in written] == [0.0, 1.0, 3.0]
    assert all(len(samples) == len(SYMBOLS) for samples in written)
    assert clock.sleeps == [1.5, 1.0, pytest.approx(0.8)]
