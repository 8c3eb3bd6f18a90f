"""The process that owns a run: the master of a distributed run, or the only process.

It starts the run (the plan, the run directory, the exchange-side driver, the samplers of the
market and of the load machine), merges what the load generators measure, rewrites
`progress.json` about once a second, and finishes the run: when the shape reaches the end of the
timeline and the last requests are answered, or early on Ctrl-C, SIGTERM or the web UI's stop.
Either way the run directory ends complete, a partial run simply having fewer measurements.

Finishing asks every worker for its last measurements (the `stampede:flush` message, answered
with `stampede:shipment`) rather than trusting Locust's own last report, which arrives after
the master has already stopped listening; it then clears the faults the run injected, reads the
target's conservation audit, and writes the results.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import gevent
import httpx
from gevent import Greenlet
from gevent.lock import Semaphore
from locust.env import Environment
from locust.runners import MasterRunner
from pydantic import ValidationError

from loadtests.accounts import AccountsError
from loadtests.driver import Applied, Driver, fetch_audit, operator_client
from loadtests.feedwatch import FEED, feed_stats
from loadtests.generator import FLUSH
from loadtests.metrics import RETRIES, Metrics, Outcome, Tally
from loadtests.options import PLAN_ATTRIBUTE, OptionsError, RunPlan, plan_run, read_options
from loadtests.pacing import UserSizing
from loadtests.profiles import ProfileError, RequestClass, Timeline
from loadtests.progress import Progress, write_progress
from loadtests.results import (
    PROFILE_FILE,
    AppliedEvent,
    ResultsError,
    append_moments,
    finish_run,
    start_run,
)
from loadtests.sampler import start_sampling
from loadtests.sizing import ClassFeedback, CrowdPlanner, ScheduleLag, schedule_lag
from loadtests.staleness import READS, STALE_READS
from loadtests.users.context import Shipment, context_of

log = logging.getLogger(__name__)

LOCAL = "local"
"""The source name of the measurements of a run's only process."""

START_LEAD_S = 1.5
"""Run second 0 is this far after the start, so every generator is ready before it."""
PROGRESS_INTERVAL_S = 1.0
FLUSH_WAIT_S = 5.0
"""How long finishing waits for workers' last measurements."""
DRAIN_GRACE_S = 2.0
"""Past the end and the client timeout, requests still unanswered are given up on."""
ACHIEVED_WINDOW_S = 6.0
"""Achieved rates in progress.json are over this trailing window (workers report every 3 s)."""

_REQUEST_SERIES = frozenset(klass.value for klass in RequestClass)


class ProgressMeter:
    """progress.json's figures from a run's merged metrics."""

    def __init__(self, timeline: Timeline, origin: float) -> None:
        self._timeline = timeline
        self._origin = origin
        self._history: deque[tuple[float, dict[str, int]]] = deque()

    def snapshot(self, metrics: Metrics, now: float, *, users: int, done: bool) -> Progress:
        timeline = self._timeline
        elapsed = max(0.0, now - self._origin)
        window = timeline.window_at(elapsed) or timeline.windows[-1]
        multipliers = window.multipliers_at(min(elapsed, window.end))
        running = elapsed < timeline.duration
        successes: dict[str, int] = dict.fromkeys(_REQUEST_SERIES, 0)
        retries: dict[str, int] = dict.fromkeys(_REQUEST_SERIES, 0)
        errors: dict[str, int] = {}
        step = Tally()
        feed = Tally()
        for key, tally in metrics.items():
            if key.series in _REQUEST_SERIES:
                successes[key.series] += tally.counts.get(Outcome.SUCCESS, 0)
                retries[key.series] += tally.counts.get(RETRIES, 0)
                for outcome in Outcome:
                    if outcome is not Outcome.SUCCESS and tally.counts.get(outcome):
                        errors[outcome.value] = errors.get(outcome.value, 0) + tally.counts[outcome]
            if key.step_index == window.index:
                if key.series == RequestClass.QUERIES.value:
                    step.merge(tally)
                elif key.series == FEED:
                    feed.merge(tally)
        reads = step.counts.get(READS, 0)
        shown = feed_stats([feed])
        return Progress(
            elapsed_s=min(elapsed, timeline.duration),
            duration_s=timeline.duration,
            phase=window.name,
            step_index=window.index,
            multipliers={klass.value: multipliers.of(klass) for klass in RequestClass},
            offered={
                klass.value: timeline.baseline.of(klass) * multipliers.of(klass) if running else 0
                for klass in RequestClass
            },
            achieved=self._achieved(now, successes),
            errors=errors,
            retries=retries,
            stale_pct=100 * step.counts.get(STALE_READS, 0) / reads if reads else None,
            feed_lag_p99_ms=None if shown.lag_ms is None else shown.lag_ms.p99,
            feed_completeness=shown.completeness,
            users=users,
            done=done,
        )

    def _achieved(self, now: float, successes: dict[str, int]) -> dict[str, float]:
        history = self._history
        history.append((now, successes))
        while len(history) > 1 and now - history[1][0] >= ACHIEVED_WINDOW_S:
            history.popleft()
        then, before = history[0]
        if now - then <= 0:
            return dict.fromkeys(successes, 0.0)
        return {name: (count - before[name]) / (now - then) for name, count in successes.items()}


class ActiveRun:
    """One run in progress, as its owner sees it."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan
        self.timeline = plan.timeline()
        self.metrics = Metrics()
        self.planner = CrowdPlanner(
            self.timeline, UserSizing(expected_latency=plan.options.expected_latency), plan.workers
        )
        self.meter = ProgressMeter(self.timeline, plan.origin)
        self._feedback: dict[str, dict[RequestClass, ClassFeedback]] = {}
        self.finals: set[str] = set()

    def receive(self, source: str, shipment: Shipment) -> None:
        if source in self.finals:
            return
        self.metrics.merge(shipment.metrics)
        # Straight to the run directory: kept in memory, a long run's moments would grow
        # without bound; a moment several shipments fill is merged when read back.
        append_moments(self.plan.run_dir, shipment.moments)
        self._feedback[source] = shipment.feedback
        if shipment.final:
            self.finals.add(source)

    def feedback(self) -> dict[RequestClass, ClassFeedback]:
        return {
            klass: ClassFeedback.merge(report[klass] for report in self._feedback.values())
            for klass in RequestClass
        }

    def over(self, now: float, sources: int) -> bool:
        """Past the end, and every generator has sent and heard back all it was to (or the
        last answers are overdue beyond the client timeout)."""
        past = now - self.plan.origin - self.timeline.duration
        if past < 0:
            return False
        if past >= self.plan.options.client_timeout + DRAIN_GRACE_S:
            return True
        if len(self.finals) >= sources:
            return True
        merged = self.feedback().values()
        drained = all(part.exhausted and part.in_flight == 0 for part in merged)
        return len(self._feedback) >= sources and drained


def fresh_run_dir(path: Path) -> Path:
    """`path`, or `path-2`, `path-3`... when it already holds a run (a second run from the web
    UI with the same --run-dir)."""
    candidate, n = path, 1
    while (candidate / PROFILE_FILE).exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def applied_events(history: Sequence[Applied]) -> list[AppliedEvent]:
    """The driver's record of the profile's events, as the run directory keeps it."""
    return [
        AppliedEvent(
            at=applied.at,
            step=applied.step,
            event=applied.event,
            status=applied.status.value,
            detail=applied.detail,
        )
        for applied in history
    ]


class Coordinator:
    def __init__(self, environment: Environment) -> None:
        self._env = environment
        self.run: ActiveRun | None = None
        self._driver: Driver | None = None
        self._http: httpx.Client | None = None
        self._greenlets: list[Greenlet] = []
        self._finishing = Semaphore()

    @property
    def _master(self) -> MasterRunner | None:
        runner = self._env.runner
        return runner if isinstance(runner, MasterRunner) else None

    def _sources(self) -> int:
        return 1 if self._master is None else self._master.worker_count

    def begin(self) -> ActiveRun | None:
        """The run in progress, started now if none is; None when it cannot start (the reason
        is logged and the exit code set)."""
        if self.run is not None:
            return self.run
        try:
            plan = plan_run(
                read_options(self._env.parsed_options),
                host=self._env.host,
                workers=self._sources(),
                origin=time.time() + START_LEAD_S,
            )
            plan = plan.model_copy(update={"run_dir": fresh_run_dir(plan.run_dir)})
            start_run(plan.run_dir, plan.profile, plan.settings())
        except (OptionsError, ProfileError, AccountsError, ResultsError, ValidationError) as exc:
            log.error("cannot start the run: %s", exc)
            self._env.process_exit_code = 2
            return None
        setattr(self._env.parsed_options, PLAN_ATTRIBUTE, plan.model_dump_json())
        log.info("run %s: %s for %.0f s", plan.run_dir, plan.profile.name, plan.timeline().duration)
        self.run = ActiveRun(plan)
        self._http = operator_client(plan.host, plan.options.admin_token)
        self._driver = Driver(self._http, self.run.timeline, origin=plan.origin)
        self._greenlets = [
            gevent.spawn(self._driver.run),
            gevent.spawn(self._keep_progress),
            *start_sampling(plan, self._runner_cpu, self._schedule_lag),
        ]
        return self.run

    def _runner_cpu(self) -> dict[str, float]:
        """Each load-generating process's CPU as Locust last measured it: the workers', as
        their heartbeats report it, or this process's own when it runs the users."""
        master = self._master
        if master is not None:
            return {client.id: float(client.cpu_usage) for client in master.clients.all}
        runner = self._env.runner
        return {} if runner is None else {LOCAL: float(runner.current_cpu_usage)}

    def _schedule_lag(self) -> ScheduleLag:
        """How far the load is behind its schedule, as the generators last reported."""
        run = self.run
        if run is None:
            return ScheduleLag(0.0, 0.0)
        return schedule_lag(run.feedback(), run.planner.counts)

    def collect(self) -> None:
        """Take what a local run's own users measured since the last time."""
        if self.run is not None:
            self._take_local(self.run, final=False)

    def _take_local(self, run: ActiveRun, *, final: bool) -> None:
        """The measurements of this process's own users, when it runs them (workers send
        theirs)."""
        context = context_of(self._env)
        if self._master is None and context is not None and not context.shipped_final:
            run.receive(LOCAL, context.ship(final=final))

    def receive(self, source: str, data: Mapping[str, Any]) -> None:
        if self.run is not None:
            self.run.receive(source, Shipment.model_validate(data))

    def over(self) -> bool:
        return self.run is None or self.run.over(time.time(), self._sources())

    def _keep_progress(self) -> None:
        while self.run is not None:
            self.collect()
            self._write_progress(done=False)
            gevent.sleep(PROGRESS_INTERVAL_S)

    def _write_progress(self, *, done: bool) -> None:
        run = self.run
        if run is None:
            return
        users = self._env.runner.user_count if self._env.runner is not None else 0
        progress = run.meter.snapshot(run.metrics, time.time(), users=users, done=done)
        write_progress(run.plan.run_dir, progress)

    def finish(self) -> Path | None:
        """Gather the last measurements and write the run directory, which is returned; a no-op
        (None) with no run. Whoever calls second (a signal racing the shape's own end) waits for
        the first."""
        with self._finishing:
            run = self.run
            if run is None:
                return None
            gevent.killall(self._greenlets)
            self._gather_finals(run)
            audit = None
            if self._http is not None and self._driver is not None:
                self._driver.clear_faults()
                audit = fetch_audit(self._http, sleep=gevent.sleep)
                self._http.close()
            plan = run.plan
            events = [] if self._driver is None else applied_events(self._driver.history)
            try:
                finish_run(
                    plan.run_dir, run.metrics, run.timeline, origin=plan.origin, audit=audit,
                    events=events,
                )  # fmt: skip
            except ValidationError as exc:
                log.warning("the target's audit is not one a run records: %s", exc)
                finish_run(
                    plan.run_dir, run.metrics, run.timeline, origin=plan.origin,
                    events=events,
                )  # fmt: skip
            self._write_progress(done=True)
            log.info("run %s written", plan.run_dir)
            self.run = None
            return plan.run_dir

    def _gather_finals(self, run: ActiveRun) -> None:
        master = self._master
        if master is None:
            self._take_local(run, final=True)
            return
        workers = {client.id for client in master.clients.all}
        master.send_message(FLUSH)
        deadline = time.monotonic() + FLUSH_WAIT_S
        while not workers <= run.finals and time.monotonic() < deadline:
            gevent.sleep(0.05)
        missing = workers - run.finals
        if missing:
            log.warning("no last measurements from %d worker(s); the run is partial", len(missing))


_coordinators: weakref.WeakKeyDictionary[Environment, Coordinator] = weakref.WeakKeyDictionary()


def coordinator_of(environment: Environment) -> Coordinator:
    coordinator = _coordinators.get(environment)
    if coordinator is None:
        coordinator = _coordinators[environment] = Coordinator(environment)
    return coordinator
