"""A child tied to its parent ends when the parent is killed outright, and one whose parent died
before it could ask ends at once: no process of ours outlives whoever started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from exchange_mock.lifetime import ends_with_us

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG")

PARENT = """
import subprocess, sys
from exchange_mock.lifetime import ends_with_us
child = subprocess.Popen(["sleep", "60"], preexec_fn=ends_with_us())
print(child.pid, flush=True)
child.wait()
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def test_a_child_ends_when_its_parent_is_killed_with_sigkill() -> None:
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    try:
        assert _running(child)
        parent.kill()
        parent.wait(timeout=10)
        deadline = time.monotonic() + 5
        while _running(child):
            assert time.monotonic() < deadline, "the child outlived its killed parent"
            time.sleep(0.05)
    finally:
        if _running(child):
            os.kill(child, signal.SIGKILL)


def test_a_child_whose_parent_is_already_gone_ends_at_once() -> None:
    """Asked after the parent died, the kernel would never signal: the child must see that."""
    ours = subprocess.run(
        [sys.executable, "-c", "import sys; from exchange_mock.lifetime import die_with_parent;"
         f"die_with_parent({os.getpid()} + 1_000_000); print('still here')"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert (ours.returncode, ours.stdout) == (1, "")


def test_a_child_of_a_living_parent_runs_on() -> None:
    done = subprocess.run(["true"], preexec_fn=ends_with_us(), check=False)
    assert done.returncode == 0
