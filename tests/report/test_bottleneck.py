"""The bottleneck named from the exchange's own samples, with the numbers that show it: a
projector falling behind while its process is busy, an engine queue that grows, API workers
shedding, a busy Redis; an exchange that kept up while latency broke is said to have kept up;
and without samples, the line says what its heuristic rests on, never "none" while latency
broke."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from loadtests.profiles import load_profile
from loadtests.report.bottleneck import exchange_evidence
from loadtests.report.build import load_report
from loadtests.report.render import to_html, to_markdown
from loadtests.results import ExchangeSample, ProcessSample, append_exchange

TIMELINE = load_profile("oct-2025").timeline()
"""At its own scale: pre-event 0-100 s, waterfall 100-350, peak-minute 350-360, tail 360-500,
aftershock 500-1100."""
API_ID, ROLES_ID = "101-api", "100-roles"
BACKGROUND = ("engine", "feeds", "makers", "projector")


def api(cpu: float = 30.0, in_flight: int = 5, shed: int = 0) -> ProcessSample:
    return ProcessSample(
        process=API_ID,
        roles=("api",),
        cpu_pct=cpu,
        requests_in_flight=in_flight,
        request_capacity=1_000,
        requests_shed=shed,
        orders_shed=0,
        redis_round_trips=500,
        redis_rtt_ms=0.4,
        redis_rtt_max_ms=3.0,
    )


def roles(cpu: float = 20.0, orders_shed: int = 0) -> ProcessSample:
    return ProcessSample(
        process=ROLES_ID,
        roles=BACKGROUND,
        cpu_pct=cpu,
        orders_shed=orders_shed,
        redis_round_trips=200,
        redis_rtt_ms=0.2,
        redis_rtt_max_ms=1.0,
    )


def sample(
    at: float,
    *,
    queued: int = 3,
    lag: int = 0,
    lag_ms: int = 0,
    processes: tuple[ProcessSample, ...] | None = None,
    redis_cpu_s: float | None = None,
) -> ExchangeSample:
    return ExchangeSample(
        at=at,
        orders_queued=queued,
        journal_head=10_000 + int(at) * 100 + lag,
        projected_seq=10_000 + int(at) * 100,
        projector_lag_ms=lag_ms,
        processes=(api(), roles()) if processes is None else processes,
        redis_cpu_s=at * 0.2 if redis_cpu_s is None else redis_cpu_s,
    )


def calm(seconds: range) -> list[ExchangeSample]:
    return [sample(at, lag=80, lag_ms=40) for at in seconds]


def label(index: int) -> str:
    return TIMELINE.windows[index].name


def projector_behind() -> list[ExchangeSample]:
    """Calm to the peak minute; there the projector's lag grows to 2,863 events (3.2 s) while
    the process running it sits at 98% CPU, and it recovers in the tail."""
    peak = [
        sample(350 + n, lag=lag, lag_ms=lag_ms, processes=(api(), roles(cpu=cpu)))
        for n, (lag, lag_ms, cpu) in enumerate(
            [(900, 600, 97.0), (1_800, 1_900, 98.0), (2_863, 3_200, 99.0), (2_000, 2_500, 98.0)]
        )
    ]
    return [*calm(range(0, 350, 10)), *peak, *calm(range(360, 1101, 20))]


def test_a_projector_falling_behind_is_named_with_its_lag_and_its_process_cpu() -> None:
    evidence = exchange_evidence(projector_behind(), TIMELINE, label)

    assert evidence is not None
    (finding,) = evidence.findings
    assert finding.step == 2
    assert finding.line == (
        "the projector: its lag grew from 80 to 2,863 events (3.2 s behind the journal at "
        "worst) from peak-minute on while its process (shared with engine, feeds, makers) sat "
        "at 98% CPU"
    )


def test_a_growing_engine_queue_comes_with_the_orders_the_api_shed() -> None:
    growing = [
        sample(100 + n, queued=queued, processes=(api(), roles(cpu=95.0, orders_shed=shed)))
        for n, (queued, shed) in enumerate([(200, 0), (4_000, 0), (10_000, 40), (10_000, 130)])
    ]
    samples = [*calm(range(0, 100, 10)), *growing]

    evidence = exchange_evidence(samples, TIMELINE, label)

    assert evidence is not None
    assert [f.line for f in evidence.findings] == [
        "the engine: its queue grew from 3 to 10,000 commands from waterfall on while its "
        "process (shared with feeds, makers, projector) sat at 95% CPU, and 130 new orders "
        "were shed (-1008)"
    ]


def test_api_workers_shedding_and_a_busy_redis_are_named_in_the_order_they_began() -> None:
    shedding = [
        sample(350 + n, processes=(api(cpu=99.0, in_flight=1_000, shed=shed), roles()))
        for n, shed in enumerate([0, 300, 900])
    ]
    samples = [*calm(range(0, 340, 10)), *(sample(340 + n) for n in range(10)), *shedding]
    # Redis's CPU in the samples' own terms: 20% of its core, and 95% from second 340.
    used, with_cpu = 0.0, []
    for before, after in zip([samples[0], *samples], samples, strict=False):
        used += (after.at - before.at) * (95 if after.at > 340 else 20) / 100
        with_cpu.append(after.model_copy(update={"redis_cpu_s": used}))

    evidence = exchange_evidence(with_cpu, TIMELINE, label)

    assert evidence is not None
    assert [f.line for f in evidence.findings] == [
        "Redis: its one thread sat at 95% CPU from waterfall on, its round trips averaging "
        "0.343 ms",
        "the API workers: from peak-minute on, they shed 900 requests over their cap (503) and "
        "had up to 100% of their capacity in flight while the busiest API process sat at 99% "
        "CPU",
    ]


def test_an_exchange_that_kept_up_says_what_it_saw() -> None:
    evidence = exchange_evidence(calm(range(0, 1101, 10)), TIMELINE, label)

    assert evidence is not None
    assert evidence.findings == ()
    assert evidence.seen == (
        "engine queue at most 3 commands, projector lag at most 80 events (40 ms), busiest "
        "process 30% CPU (api), Redis round trips at most 0.343 ms on average in a second"
    )


def _sampled(run: Path, samples: list[ExchangeSample]) -> Path:
    for one in samples:
        append_exchange(run, one)
    return run


def test_the_report_names_the_measured_bottleneck_and_draws_the_exchange(
    cascade_run: Path,
) -> None:
    report = load_report(_sampled(cascade_run, projector_behind()))

    (line,) = (line for line in report.headline if "ottleneck" in line)
    assert line == (
        "Bottleneck (measured on the exchange): the projector: its lag grew from 80 to 2,863 "
        "events (3.2 s behind the journal at worst) from peak-minute on while its process "
        "(shared with engine, feeds, makers) sat at 98% CPU"
    )
    markdown = to_markdown(report)
    assert "## Bottleneck" in markdown and "Measured on the exchange" in markdown
    assert "(from peak-minute, at 350 s)" in markdown
    html = to_html(report)
    assert "The exchange, second by second" in html
    assert "projector lag, events" in html


def test_when_latency_broke_and_the_exchange_kept_up_the_line_says_so(
    cascade_run: Path,
) -> None:
    # The small cascade's orders time out in the peak minute (see its fixture).
    report = load_report(_sampled(cascade_run, calm(range(0, 1101, 10))))

    (line,) = (line for line in report.headline if "ottleneck" in line)
    assert line.startswith("Bottleneck: not the exchange, which kept up (engine queue at most 3")
    assert "though Order latency SLO broken in peak-minute" in line
    assert line.endswith("the time went elsewhere (the load generator, the network, the clients)")


def test_without_exchange_samples_the_line_says_what_it_rests_on_and_never_none(
    cascade_run: Path, edited_run: Callable[..., Path], lenient_slo: Path, tmp_path: Path
) -> None:
    heuristic = load_report(cascade_run)
    assert heuristic.headline[-2].startswith(
        "Likely bottleneck (heuristic, from client-side symptoms): engine queue — order "
        "timeouts (408 / -1007) began in peak-minute"
    )
    # Timeouts judged leniently: no symptom points at a component, but order latency broke.
    slo = tmp_path / "slo.yaml"
    slo.write_text("timeout_rate: 1\n")
    broke = load_report(cascade_run, slo)
    (line,) = (line for line in broke.headline if "ottleneck" in line)
    assert line == (
        "Likely bottleneck: no client-side symptom points at a component, though Order latency "
        "SLO broken in peak-minute (100× orders, 500 orders/s): 3 s (≥ 3 s), over the 500 ms SLO"
    )
    assert "Likely bottleneck" in to_markdown(broke)
    assert "the target reported none of its internals" in to_markdown(broke)

    kept = load_report(edited_run(), lenient_slo)
    assert kept.headline[-2] == (
        "Likely bottleneck (heuristic, from client-side symptoms): none indicated by this run"
    )


def test_a_busy_process_is_named_where_no_backlog_grew() -> None:
    busy = [sample(at, processes=(api(), roles(cpu=96.0))) for at in range(500, 1101, 20)]
    evidence = exchange_evidence([*calm(range(0, 500, 10)), *busy], TIMELINE, label)

    assert evidence is not None
    assert [f.line for f in evidence.findings] == [
        "the exchange process running engine, feeds, makers, projector: it sat at 96% CPU from "
        "aftershock on, though no queue grew past its floor"
    ]
