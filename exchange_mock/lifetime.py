"""The processes a run starts, as the kernel sees them: they end with their parent, however
the parent ends, and the long-lived ones carry a name `ps` shows.

A parent that exits normally stops its children itself, but SIGKILL (an operator's `kill -9`,
the OOM killer, a CI job timing out) runs no cleanup: its Redis, exchange or Locust processes
would keep running, and keep loading the machine, with no one left to stop them. On Linux the
kernel can signal a child when its parent dies (PR_SET_PDEATHSIG); elsewhere nothing happens.
The signal is SIGTERM, so each ends as when stopped: Redis syncs its file, the exchange unwinds,
Locust writes what it measured.

Two ways to ask for it, one helper behind both:

- `ends_with_us()`, a `preexec_fn` for `subprocess.Popen`, for a child we start as a command
  (Redis, the exchange, Locust);
- `die_with_parent(parent)`, called first thing in a Python child we did not start that way (a
  process Locust forks), or `die_with_spawner()` in a `multiprocessing` child (the roles
  process, uvicorn's API workers).

The kernel's "parent" is the thread that started the child: a child started from a thread ends
when that thread does, so start children from threads that live as long as the process.
"""

from __future__ import annotations

import ctypes
import functools
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1
_PR_SET_NAME = 15


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """libc's prctl (Linux only), looked up once: in a parent, before any fork, so a child
    between fork and exec loads nothing."""
    if not sys.platform.startswith("linux"):
        return None
    prctl: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    return prctl


def die_with_parent(parent: int) -> None:
    """Have the kernel send this process SIGTERM when its parent (pid `parent`) dies. A parent
    that died before we asked has left us to another (init or a subreaper) that will never
    signal us: then we end at once."""
    prctl = _prctl()
    if prctl is None:
        return
    prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        os._exit(1)


def die_with_spawner() -> None:
    """In a `multiprocessing` child, `die_with_parent` of the process that started it; in any
    other process, nothing."""
    spawner = multiprocessing.parent_process()
    if spawner is not None and spawner.pid is not None:
        die_with_parent(spawner.pid)


def ends_with_us() -> Callable[[], None]:
    """A `preexec_fn` that ties the child to this process. Between fork and exec it only calls
    prctl and getppid (libc was looked up here, before the fork), so it is safe with threads
    about, which `preexec_fn` in general is not."""
    _prctl()
    return functools.partial(die_with_parent, os.getpid())


def name_process(name: str) -> None:
    """Name the calling process as `ps` and /proc show it (Linux; elsewhere nothing)."""
    prctl = _prctl()
    if prctl is not None:
        prctl(_PR_SET_NAME, name.encode()[:15])
