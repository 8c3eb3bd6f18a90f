from __future__ import annotations

from collections.abc import Iterator

import pytest
from locust import User
from locust.runners import WorkerNode

from loadtests.shapes import CountDispatcher


class A(User):
    fixed_count = 4


class B(User):
    fixed_count = 1


class C(User):
    fixed_count = 0


@pytest.fixture(autouse=True)
def _counts() -> Iterator[None]:
    yield
    A.fixed_count, B.fixed_count, C.fixed_count = 4, 1, 0


def _dispatch(dispatcher: CountDispatcher) -> list[dict[str, dict[str, int]]]:
    dispatcher.new_dispatch(target_user_count=5, spawn_rate=100)
    return list(dispatcher)


def test_each_class_is_spread_evenly_over_the_workers_in_one_step() -> None:
    workers = [WorkerNode("w2"), WorkerNode("w1")]
    dispatcher = CountDispatcher(workers, [A, B, C])
    assert _dispatch(dispatcher) == [
        {"w1": {"A": 2, "B": 1, "C": 0}, "w2": {"A": 2, "B": 0, "C": 0}}
    ]
    assert not dispatcher.dispatch_in_progress


def test_a_new_dispatch_follows_the_counts_as_they_grow() -> None:
    dispatcher = CountDispatcher([WorkerNode("w1")], [A, B, C])
    _dispatch(dispatcher)
    A.fixed_count, C.fixed_count = 9, 2
    assert _dispatch(dispatcher) == [{"w1": {"A": 9, "B": 1, "C": 2}}]


def test_workers_joining_or_leaving_get_their_share_at_the_next_dispatch() -> None:
    dispatcher = CountDispatcher([WorkerNode("w1")], [A, B, C])
    dispatcher.add_worker(WorkerNode("w2"))
    assert _dispatch(dispatcher)[0]["w2"] == {"A": 2, "B": 0, "C": 0}
    dispatcher.remove_worker(WorkerNode("w1"))
    assert _dispatch(dispatcher) == [{"w2": {"A": 4, "B": 1, "C": 0}}]
