"""The baseline for the Locust-users benchmark: Locust's own FastHttpUser and nothing else, each
user sending at a constant rate (`--rate-per-user`) and asking for what Stampede's market-data
users ask (depth, 24-hour ticker, premium index of a symbol), so both pay the same HTTP work.

Each user starts at a random phase of its period and keeps to it, so the users' sends spread
evenly over time as an open model's do. Users started together at a fixed period (what
`constant_throughput` gives) send in bursts, which the event loop serves for less CPU per
request: a cheaper load than the one being compared with.

Usage: locust -f benchmarks/baselines/locust_user.py --headless --host URL -u N -r N \\
    --rate-per-user R --run-time T
"""

from __future__ import annotations

import random
import time
from typing import Any

from locust import FastHttpUser, events, task

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
        self.period = 1 / self.environment.parsed_options.rate_per_user
        self.due = time.time() + random.uniform(0, self.period)

    def wait_time(self) -> float:
        pause = max(0.0, self.due - time.time())
        self.due += self.period
        return pause

    @task
    def read(self) -> None:
        target = random.choice(TARGETS)
        self.client.get(target, name=target.split("?")[0])
