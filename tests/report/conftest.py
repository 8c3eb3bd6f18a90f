"""Runs for the report's tests: the committed step ramps (alone and fitted together), a small
cascade (with and without a sampled market timeline), and edited copies."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loadtests.metrics import Metrics, Outcome, SeriesKey, record_request
from loadtests.profiles import RequestClass, load_profile
from loadtests.report.build import load_report
from loadtests.report.schema import Report
from loadtests.report.slo import OBJECTIVES, Bound, Objective
from loadtests.results import STEPS_FILE, MarketSample, append_timeline, finish_run, start_run
from tests.fixtures.make_runs import RUNS_DIR

ONE_WORKER = RUNS_DIR / "step-ramp-small"
TWO_WORKERS = RUNS_DIR / "step-ramp-small-2workers"
FOUR_WORKERS = RUNS_DIR / "step-ramp-small-4workers"
REQUESTS_PER_PHASE = 20
CASCADE_ORIGIN = 1_760_130_000.0

Row = dict[str, Any]

# The cascade's market at the ends of its first phases, as the sampler records it (each second,
# in a real run): BTC falls 5% in the waterfall and 8% by the end of the peak minute, its
# liquidations far ahead of what the feed showed; ETH dips 1% and nothing is liquidated.
# fmt: off
CASCADE_MARKET = (
    #  at     symbol     last       mark       index      true  feed
    (0.0,   "BTCUSDT", "122500.0", "122500.0", "122500.0", 0,    0),
    (0.0,   "ETHUSDT", "4350.00",  "4350.00",  "4350.00",  0,    0),
    (100.0, "BTCUSDT", "122500.0", "122510.0", "122500.0", 0,    0),
    (100.0, "ETHUSDT", "4350.00",  "4350.00",  "4350.00",  0,    0),
    (350.0, "BTCUSDT", "116375.0", "116375.0", "116375.0", 500,  25),
    (350.0, "ETHUSDT", "4306.50",  "4306.50",  "4306.50",  0,    0),
    (360.0, "BTCUSDT", "112700.0", "112700.0", "113925.0", 1500, 35),
    (360.0, "ETHUSDT", "4306.50",  "4306.50",  "4306.50",  0,    0),
)
# fmt: on


@pytest.fixture(scope="session")
def one_worker() -> Report:
    return load_report(ONE_WORKER)


@pytest.fixture(scope="session")
def two_workers() -> Report:
    return load_report(TWO_WORKERS)


@pytest.fixture(scope="session")
def four_workers() -> Report:
    return load_report(FOUR_WORKERS)


@pytest.fixture(scope="session")
def scaled_out() -> Report:
    """The one-worker run, sized in API workers by a fit over all three runs."""
    return load_report(ONE_WORKER, scale_out=[TWO_WORKERS, FOUR_WORKERS])


@pytest.fixture
def lenient_slo(tmp_path: Path) -> Path:
    """An SLO file no run can break."""
    path = tmp_path / "lenient-slo.yaml"
    path.write_text("".join(f"{o.metric}: {_never_broken(o)}\n" for o in OBJECTIVES))
    return path


def _never_broken(objective: Objective) -> float:
    if objective.bound is Bound.FLOOR:
        return 0
    return 1e9 if objective.unit == "ms" else 1


@pytest.fixture
def edited_run(tmp_path: Path) -> Callable[..., Path]:
    """A copy of the one-worker run with its step rows passed through `edit_row` (a row
    returned as None is dropped) and the files named in `replace` rewritten (None: removed)."""

    def edit(
        edit_row: Callable[[Row], Row | None] = lambda row: row,
        replace: Mapping[str, str | None] | None = None,
    ) -> Path:
        copy = tmp_path / "edited"
        shutil.copytree(ONE_WORKER, copy)
        rows = [json.loads(line) for line in (copy / STEPS_FILE).read_text().splitlines()]
        kept = [row for row in map(edit_row, rows) if row is not None]
        (copy / STEPS_FILE).write_text("".join(json.dumps(row) + "\n" for row in kept))
        for name, text in (replace or {}).items():
            if text is None:
                (copy / name).unlink()
            else:
                (copy / name).write_text(text)
        return copy

    return edit


@pytest.fixture
def cascade_run(tmp_path: Path) -> Path:
    """oct-2025 with a few requests per phase: orders time out in the peak minute only, and no
    audit or feed was recorded."""
    profile = load_profile("oct-2025")
    timeline = profile.timeline()
    directory = tmp_path / "oct-2025"
    start_run(directory, profile, {"api_workers": 1})
    metrics = Metrics()
    for window in timeline.windows:
        for klass in RequestClass:
            tally = metrics.tally(SeriesKey(window.index, window.name, klass))
            for n in range(REQUESTS_PER_PHASE):
                timed_out = window.name == "peak-minute" and klass is RequestClass.ORDERS and n % 2
                outcome = Outcome.TIMEOUT_408 if timed_out else Outcome.SUCCESS
                intended = window.start + n * window.duration / REQUESTS_PER_PHASE
                latency = 3.0 if timed_out else 0.05
                record_request(
                    tally, outcome, intended=intended, sent=intended, done=intended + latency
                )
    finish_run(directory, metrics, timeline, origin=CASCADE_ORIGIN)
    return directory


@pytest.fixture
def sampled_cascade_run(cascade_run: Path) -> Path:
    """The small cascade with its market sampled at the ends of its first phases."""
    append_timeline(
        cascade_run,
        [
            MarketSample(
                at=at,
                symbol=symbol,
                price=Decimal(last),
                mark=Decimal(mark),
                index=Decimal(index),
                liquidations=true,
                feed_liquidations=feed,
            )
            for at, symbol, last, mark, index, true, feed in CASCADE_MARKET
        ],
    )
    return cascade_run
