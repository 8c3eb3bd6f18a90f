"""Stampede's Locust entry point: a cascade-style surge against any Binance-compatible target.

    locust -f loadtests/locustfile.py --headless --host URL -u 1 -r 1 \\
        --profile oct-2025 --time-scale 6 --run-dir runs/oct [--accounts-file F] \\
        [--client-ips N] [--retry none|immediate|backoff|retry-after] [--baseline-scale K] \\
        [--processes N | --master / --worker]

The shape decides the users (`-u`/`-r` are placeholders); `locust -f loadtests/locustfile.py`
alone serves the web UI, whose form carries the same options (`stampede run PROFILE --web`
starts the embedded mock first and fills in its host); a run that ends there writes its report
and links it (`webui.py`). The run directory is laid out as `results.py` describes, with
`progress.json` rewritten about once a second while it runs.

This module only wires the parts to Locust's events: the users (`users/`), the shape
(`shapes.py`), the run's owner (`coordinator.py`: master or only process) and the load
generators (`generator.py`: workers or only process).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any

import gevent
from locust import events
from locust.env import Environment
from locust.rpc import Message
from locust.runners import MasterRunner, Runner, WorkerRunner

from exchange_mock.lifetime import die_with_parent
from loadtests import options, telemetry
from loadtests.coordinator import coordinator_of
from loadtests.generator import FLUSH, REPORT_KEY, SHIPMENT, Generator
from loadtests.shapes import CascadeShape, CountDispatcher
from loadtests.users.feeds import FeedUser
from loadtests.users.market_data import MarketDataUser
from loadtests.users.paced import PacedUser
from loadtests.users.probes import ProbeUser
from loadtests.users.traders import TraderUser
from loadtests.users.watchers import WatcherUser
from loadtests.webui import ReportShelf

__all__ = [
    "CascadeShape",
    "FeedUser",
    "MarketDataUser",
    "ProbeUser",
    "TraderUser",
    "WatcherUser",
]


_LOADED_IN = os.getpid()
"""The process that loaded this file: with `--processes`, the master that forks the workers."""


def _listen(hook: Any, listener: Callable[..., None]) -> None:
    """`hook.add_listener(listener)`, typed: Locust's event hooks are not."""
    hook.add_listener(listener)


def _register_options(parser: Any, **_: Any) -> None:
    options.register(parser)
    telemetry.register(parser)


def _wire(environment: Environment, **_: Any) -> None:
    environment.dispatcher_class = CountDispatcher
    runner = environment.runner
    if runner is None:
        return
    if not isinstance(runner, WorkerRunner):
        _wire_owner(environment, runner)
    if not isinstance(runner, MasterRunner):
        _wire_generator(environment, runner)
    if os.getpid() != _LOADED_IN:
        # A worker the master forked: it ends with the master, even one SIGKILLed.
        die_with_parent(_LOADED_IN)


def _wire_owner(environment: Environment, runner: Runner) -> None:
    coordinator = coordinator_of(environment)
    telemetry.export(environment)
    events = environment.events
    shelf = None if environment.web_ui is None else ReportShelf(environment.web_ui)

    def finish(**_: Any) -> None:
        written = coordinator.finish()
        if written is not None and shelf is not None:
            shelf.publish(written)

    _listen(events.test_stopping, finish)
    _listen(events.quitting, finish)
    if environment.parsed_options is not None and environment.parsed_options.headless:
        # Headless, Locust installs its own SIGTERM handler only once the shape has finished,
        # so until then SIGTERM would kill the run without a word; end it as Ctrl-C does.
        gevent.signal_handler(signal.SIGTERM, lambda: gevent.spawn(runner.quit))

    def interrupted() -> None:
        if environment.web_ui is not None:
            environment.web_ui.stop()  # type: ignore[no-untyped-call]
        runner.quit()

    # Locust ends on Ctrl-C through a KeyboardInterrupt, which Python raises only if it started
    # with SIGINT at its default: a harness started in the background (`stampede run … &`)
    # passes SIGINT on ignored, and the SIGINT it sends to stop the run was lost. A handler on
    # the event loop hears it either way.
    gevent.signal_handler(signal.SIGINT, lambda: gevent.spawn(interrupted))
    if isinstance(runner, MasterRunner):

        def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
            if REPORT_KEY in data:
                coordinator.receive(client_id, data[REPORT_KEY])

        def on_shipment(environment: Environment, msg: Message, **_: Any) -> None:
            coordinator.receive(msg.node_id, msg.data)

        _listen(events.worker_report, on_report)
        runner.register_message(SHIPMENT, on_shipment)


def _wire_generator(environment: Environment, runner: Runner) -> None:
    generator = Generator(environment, (PacedUser, ProbeUser, FeedUser))
    events = environment.events
    _listen(events.test_start, lambda **_: generator.open())
    _listen(events.test_stop, lambda **_: generator.close())
    if isinstance(runner, WorkerRunner):
        _listen(events.report_to_master, lambda data, **_: generator.report(data))
        _listen(events.quitting, lambda **_: generator.ship_final())
        runner.register_message(FLUSH, lambda **_: generator.ship_final())


_listen(events.init_command_line_parser, _register_options)
_listen(events.init, _wire)
