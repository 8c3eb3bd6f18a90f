"""The load shape: follows the profile's timeline and decides how many users each class has.

Locust's `-u`/`-r` are placeholders here: the shape starts the run on its first tick, sizes
each request class's senders by Little's law and grows them while sends fall behind
(`sizing.CrowdPlanner`), starts one probe user per load generator and one feed listener, and
ends the run once the timeline is over and the last requests are answered.

Per-class counts go to Locust as each user class's `fixed_count`, and `CountDispatcher` places
exactly those counts, spread evenly over the workers. Locust's own dispatcher interleaves
classes by weight and assigns users to workers round-robin, which can leave a worker without
any user of a class whose share of the schedule it still has to send.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from locust import LoadTestShape, User
from locust.dispatch import UsersDispatcher
from locust.runners import WorkerNode

from loadtests.coordinator import coordinator_of
from loadtests.profiles import RequestClass
from loadtests.sizing import spread_classes
from loadtests.users.feeds import FeedUser
from loadtests.users.market_data import MarketDataUser
from loadtests.users.paced import PacedUser
from loadtests.users.probes import ProbeUser
from loadtests.users.traders import TraderUser
from loadtests.users.watchers import WatcherUser

PACED_USERS: dict[RequestClass, type[PacedUser]] = {
    RequestClass.ORDERS: TraderUser,
    RequestClass.QUERIES: WatcherUser,
    RequestClass.MARKET_DATA: MarketDataUser,
}
USER_CLASSES: tuple[type[User], ...] = (*PACED_USERS.values(), ProbeUser, FeedUser)
SPAWN_RATE = 100.0
"""Reported to Locust, which requires one; `CountDispatcher` places users in one step, since an
idle user costs one sleeping greenlet and users added late miss the sends they were for."""


class CountDispatcher(UsersDispatcher):
    """Places each user class's `fixed_count`, spread evenly over the workers, in one step."""

    def __init__(self, worker_nodes: list[WorkerNode], user_classes: list[type[User]]) -> None:
        super().__init__(worker_nodes, user_classes)
        self._workers = list(worker_nodes)
        self._classes = list(user_classes)
        self._pending: dict[str, dict[str, int]] | None = None

    def new_dispatch(
        self,
        target_user_count: int,
        spawn_rate: float,
        user_classes: list[type[User]] | None = None,
    ) -> None:
        if user_classes is not None:
            self._classes = list(user_classes)
        counts = {cls.__name__: cls.fixed_count for cls in self._classes}
        workers = sorted(worker.id for worker in self._workers)
        self._pending = spread_classes(counts, workers)

    def __next__(self) -> dict[str, dict[str, int]]:
        if self._pending is None:
            raise StopIteration
        dispatch, self._pending = self._pending, None
        return dispatch

    def __iter__(self) -> Iterator[dict[str, dict[str, int]]]:
        return self

    @property
    def dispatch_in_progress(self) -> bool:
        return self._pending is not None

    def add_worker(self, worker_node: WorkerNode) -> None:
        self._workers.append(worker_node)

    def remove_worker(self, worker_node: WorkerNode) -> None:
        self._workers = [worker for worker in self._workers if worker.id != worker_node.id]


class CascadeShape(LoadTestShape):
    """The profile's timeline, tick by tick (Locust ticks a shape about once a second)."""

    def tick(self) -> tuple[int, float, list[type[User]]] | None:
        if self.runner is None:
            return None
        coordinator = coordinator_of(self.runner.environment)
        run = coordinator.begin()
        if run is None:
            return None
        coordinator.collect()
        if coordinator.over():
            coordinator.finish()
            return None
        elapsed = max(0.0, time.time() - run.plan.origin)
        counts = run.planner.update(elapsed, run.feedback())
        for klass, user_class in PACED_USERS.items():
            user_class.fixed_count = counts[klass]
        ProbeUser.fixed_count = run.plan.workers if run.plan.accounts.probes else 0
        FeedUser.fixed_count = 1
        total = sum(user_class.fixed_count for user_class in USER_CLASSES)
        return total, SPAWN_RATE, list(USER_CLASSES)
