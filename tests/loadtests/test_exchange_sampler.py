"""The exchange's samples: the mock's snapshot read into one sample per second; a target
without it (or refusing this client) asked once, and a failed read costs one second only."""

from __future__ import annotations

import httpx

from loadtests.exchange_sampler import STATUS, ExchangeSampler
from loadtests.results import ExchangeSample

SNAPSHOT = {
    "at_ms": 1,
    "faults": {},
    "orders_queued": 40,
    "journal_head": 900,
    "projected_seq": 820,
    "projector_lag_events": 80,
    "projector_lag_ms": 350,
    "api_worker": {"id": "7-a", "in_flight": 3, "capacity": 1000},
    "processes": [
        {"process": "7-a", "roles": ["api"], "at_ms": 1, "cpu_pct": 41.5,
         "requests_in_flight": 3, "request_capacity": 1000, "requests_shed": 0,
         "orders_shed": 2, "redis_round_trips": 120, "redis_rtt_ms": 0.4,
         "redis_rtt_max_ms": 2.0},
        {"process": "8-b", "roles": ["engine", "projector"], "at_ms": 1, "cpu_pct": 98.0,
         "requests_in_flight": None, "request_capacity": None, "requests_shed": 0,
         "orders_shed": 0, "redis_round_trips": 30, "redis_rtt_ms": 0.2,
         "redis_rtt_max_ms": 0.5},
    ],
    "redis_cpu_s": 1.5,
}  # fmt: skip


class Target:
    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.asked = 0

    def handle(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == STATUS
        self.asked += 1
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


def sampled(target: Target, seconds: int) -> list[ExchangeSample]:
    written: list[ExchangeSample] = []
    with httpx.Client(base_url="http://target", transport=httpx.MockTransport(target.handle)) as h:
        sampler = ExchangeSampler(h, written.append)
        for at in range(seconds):
            sampler.take(float(at))
    return written


def test_a_sample_holds_the_pipeline_and_every_process() -> None:
    (sample,) = sampled(Target(httpx.Response(200, json=SNAPSHOT)), 1)
    assert (sample.orders_queued, sample.projector_lag_events, sample.projector_lag_ms) == (
        40, 80, 350,
    )  # fmt: skip
    api, roles = sample.processes
    assert (api.roles, api.requests_in_flight, api.orders_shed) == (("api",), 3, 2)
    assert (roles.roles, roles.cpu_pct, roles.requests_in_flight) == (
        ("engine", "projector"), 98.0, None,
    )  # fmt: skip
    assert sample.redis_cpu_s == 1.5


def test_a_target_without_the_snapshot_or_refusing_it_is_asked_once() -> None:
    for status in (404, 403):
        target = Target(httpx.Response(status, json={"code": -2015, "msg": "no"}))
        assert sampled(target, 5) == []
        assert target.asked == 1


def test_a_failed_read_costs_that_second_only() -> None:
    target = Target(
        httpx.Response(500, text="oops"),
        httpx.Response(200, json={"unexpected": True}),
        httpx.Response(200, json=SNAPSHOT),
    )
    assert [sample.at for sample in sampled(target, 4)] == [2.0, 3.0]
