"""The background roles' process, kept running beside the API workers (`--workers N`): when it
ends (a crash, a kill, a role that could not recover) it is started again, as a container's
restart policy would start it, and the new one recovers from the journal where the old one
stopped. The process names itself `stampede-roles`, so `ps` and the operator can find it."""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess

from exchange_mock.lifetime import die_with_spawner

log = logging.getLogger(__name__)

NAME = "stampede-roles"
RESTART_DELAY_S = 1.0
"""The pause before a restart, so a process that cannot start does not spin."""


def _supervised(target: Callable[..., None], *args: object) -> None:
    """The supervised process: `target(*args)`, ended with its supervisor even one SIGKILLed
    (the watcher thread that restarts it lives as long as the supervisor)."""
    die_with_spawner()
    target(*args)


class Supervised:
    def __init__(self, target: Callable[..., None], *args: object) -> None:
        self._target = target
        self._args = args
        self._stopping = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name=f"{NAME}-supervisor", daemon=True)
        self.process = self._spawn()
        self.restarts = 0

    def _spawn(self) -> BaseProcess:
        process = multiprocessing.get_context("spawn").Process(
            target=_supervised, args=(self._target, *self._args), name=NAME, daemon=True
        )
        process.start()
        return process

    def start(self) -> None:
        self._watcher.start()

    def _watch(self) -> None:
        while not self._stopping.is_set():
            self.process.join(timeout=0.2)
            if self.process.exitcode is None or self._stopping.wait(RESTART_DELAY_S):
                continue
            log.warning("%s exited (%s); starting it again", NAME, self.process.exitcode)
            self.process = self._spawn()
            self.restarts += 1

    def stop(self) -> None:
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join()
        self.process.terminate()
        self.process.join(timeout=5)
