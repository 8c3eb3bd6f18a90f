"""The baseline for the Locust-users benchmark: Locust's own FastHttpUser and nothing else, each
user at a constant rate (`--rate-per-user`), asking for what Stampede's market-data users ask
(depth, 24-hour ticker, premium index of a symbol) so both pay the same HTTP client work.

Usage: locust -f benchmarks/bare_locust_user.py --headless --host URL -u N -r N \\
    --rate-per-user R --run-time T
"""

from __future__ import annotations

import random
from typing import Any

import gevent
from locust import FastHttpUser, constant_throughput, events, task

TARGETS = (
    "/fapi/v1/depth?symbol=BTCUSDT&limit=20",
    "/fapi/v1/ticker/24hr?symbol=BTCUSDT",
    "/fapi/v1/premiumIndex?symbol=BTCUSDT",
)


def _rate_option(parser: Any, **_: Any) -> None:
    parser.add_argument("--rate-per-user", type=float, default=1.0, help="Requests/s per user.")


events.init_command_line_parser.add_listener(_rate_option)


class BareUser(FastHttpUser):
    def on_start(self) -> None:
        rate = self.environment.parsed_options.rate_per_user
        self.pace = constant_throughput(rate)
        # Users started together would send in bursts, which cost the event loop less per
        # request than the evenly spread sends of an open model: start at a random phase.
        gevent.sleep(random.uniform(0, 1 / rate))

    def wait_time(self) -> float:
        pause: float = self.pace(self)
        return pause

    @task
    def read(self) -> None:
        target = random.choice(TARGETS)
        self.client.get(target, name=target.split("?")[0])
