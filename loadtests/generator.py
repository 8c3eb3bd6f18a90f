"""A process that sends load: a worker of a distributed run, or the only process.

When a run starts it takes the plan the master put in the spawn message, paces its own share
of every class (`Pacer(stride=workers, offset=its index)` from the master's common origin),
learns the target's market rules and clock, and opens the `LoadContext` its users work from.
It ships its measurements to the master as deltas (with Locust's own reports, and once more,
final, when asked to flush or when it quits).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import gevent
import httpx
from gevent import Greenlet
from locust import FastHttpUser
from locust.env import Environment
from locust.runners import LocalRunner, WorkerRunner

from loadtests.options import PLAN_ATTRIBUTE, RunPlan
from loadtests.users.context import LoadContext, attach, context_of, detach
from loadtests.users.market import MarketError, connect

log = logging.getLogger(__name__)

SHIPMENT = "stampede:shipment"
"""Worker to master: measurements, final when answering a flush or once drained."""
FLUSH = "stampede:flush"
"""Master to workers: send your last measurements now."""
REPORT_KEY = "stampede"
"""Where a worker's measurements ride in Locust's periodic report to the master."""
DRAIN_POLL_S = 0.05


class Generator:
    def __init__(
        self, environment: Environment, user_classes: Iterable[type[FastHttpUser]]
    ) -> None:
        self._env = environment
        self._user_classes = tuple(user_classes)
        self._watch: Greenlet | None = None

    def _share(self, plan: RunPlan) -> tuple[int, int] | None:
        """(stride, offset) of this process's share of the schedule; None for a worker the
        plan has no share for (one that joined after the run started)."""
        runner = self._env.runner
        if isinstance(runner, WorkerRunner):
            if not 0 <= runner.worker_index < plan.workers:
                return None
            return plan.workers, runner.worker_index
        return 1, 0

    def open(self) -> None:
        """Start this process's share of the run described in the parsed options."""
        text = getattr(self._env.parsed_options, PLAN_ATTRIBUTE, None)
        if text is None:
            log.error("no run plan reached this process; it sends no load")
            return
        plan = RunPlan.model_validate_json(text)
        share = self._share(plan)
        if share is None:
            log.warning("this worker joined after the run started; it sends no load")
            return
        timeout = plan.options.client_timeout
        for user_class in self._user_classes:
            user_class.network_timeout = user_class.connection_timeout = timeout
        try:
            with httpx.Client(base_url=plan.host, timeout=timeout) as http:
                connection = connect(http, plan.options.symbols)
        except MarketError as exc:
            log.error("cannot load the target: %s", exc)
            self._env.process_exit_code = 2
            if isinstance(self._env.runner, LocalRunner):
                gevent.spawn(self._env.runner.quit)
            return
        stride, offset = share
        context = LoadContext(plan, connection, stride=stride, offset=offset)
        attach(self._env, context)
        if isinstance(self._env.runner, WorkerRunner):
            self._watch = gevent.spawn(self._ship_when_drained, context)

    def _ship_when_drained(self, context: LoadContext) -> None:
        """Past the end, send the final measurements as soon as the last answer is in, so the
        master need not wait for the next periodic report to learn that this share is done."""
        gevent.sleep(max(0.0, context.end - context.clock()))
        deadline = context.end + context.plan.options.client_timeout
        while not context.drained() and context.clock() < deadline:
            gevent.sleep(DRAIN_POLL_S)
        self.ship_final()

    def close(self) -> None:
        if self._watch is not None:
            self._watch.kill(block=False)
            self._watch = None
        context = detach(self._env)
        if context is not None:
            context.stopped = True

    def report(self, data: dict[str, Any]) -> None:
        """Add this worker's measurements to Locust's periodic report (`report_to_master`)."""
        context = context_of(self._env)
        if context is not None and not context.shipped_final:
            data[REPORT_KEY] = context.ship().model_dump(mode="json")

    def ship_final(self) -> None:
        """Send the master this worker's last measurements, once: pacing stops with them."""
        context = context_of(self._env)
        runner = self._env.runner
        if context is None or context.shipped_final or not isinstance(runner, WorkerRunner):
            return
        runner.send_message(SHIPMENT, context.ship(final=True).model_dump(mode="json"))
