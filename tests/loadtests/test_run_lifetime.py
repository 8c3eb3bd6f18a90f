"""A `stampede run` that dies abruptly takes everything it started with it: SIGKILL runs no
cleanup, so only the kernel can end the embedded Redis, the mock (its supervisor, API workers
and roles process) and Locust (its master and workers), which would otherwise keep loading the
machine with no one left to stop them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from loadtests.coordinator import FLUSH_WAIT_S
from tests.loadtests.runs import profile_file, wait_for_origin

STAMPEDE = Path(sys.executable).parent / "stampede"
GONE_WITHIN_S = FLUSH_WAIT_S + 10.0
"""How long after the kill the last of them may take: each ends as on SIGTERM, and Locust's
master first writes what it measured, waiting up to `FLUSH_WAIT_S` for its workers' share."""


def _started(pid: int) -> str | None:
    """A live process's start time (which tells it from a later one given the same pid); None
    once it has ended (a zombie has ended too: only its parent's reaping is left)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    state, *fields = stat.rpartition(")")[2].split()
    return None if state in ("Z", "X") else fields[18]


def descendants(pid: int) -> dict[int, str]:
    """Every process below `pid` (children of any of its threads), with its command line."""
    found: dict[int, str] = {}
    queue = [pid]
    while queue:
        for task in Path(f"/proc/{queue.pop()}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            for child in map(int, children):
                try:
                    command = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                except (FileNotFoundError, ProcessLookupError):
                    continue
                found[child] = command.decode(errors="replace")
                queue.append(child)
    return found


def test_a_run_killed_with_sigkill_leaves_no_process_behind(tmp_path: Path) -> None:
    profile = profile_file(
        tmp_path,
        "killed",
        {"orders": 5, "queries": 5, "market_data": 2},
        ["{name: calm, duration_s: 60, multipliers: {orders: 1, queries: 1, market_data: 1}}"],
    )
    out = tmp_path / "run"
    command = [
        str(STAMPEDE), "run", str(profile), "--out", str(out), "--client-ips", "4",
        "--api-workers", "2", "--processes", "2",
    ]  # fmt: skip
    log = (tmp_path / "stampede.log").open("wb")
    stampede = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    started: dict[int, str | None] = {}
    try:
        wait_for_origin(out, timeout_s=90)
        below = descendants(stampede.pid)
        started = {pid: _started(pid) for pid in below}
        commands = " | ".join(below.values())
        assert "redis-server" in commands, commands
        assert "-m exchange_mock" in commands, commands
        assert "multiprocessing" in commands, commands  # the API workers and the roles process
        assert sum("-m locust" in command for command in below.values()) == 3, commands

        stampede.kill()
        stampede.wait(timeout=10)
        deadline = time.monotonic() + GONE_WITHIN_S
        alive = dict(below)
        while alive and time.monotonic() < deadline:
            time.sleep(0.1)
            alive = {pid: cmd for pid, cmd in alive.items() if _started(pid) == started[pid]}
        assert not alive, f"still running after the kill: {alive}"
    finally:
        log.close()
        if stampede.poll() is None:
            stampede.kill()
            stampede.wait()
        for pid, when in started.items():
            if when is not None and _started(pid) == when:
                os.kill(pid, signal.SIGKILL)
