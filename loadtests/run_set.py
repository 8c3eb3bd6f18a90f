"""A set of runs: one profile run several times into one directory, to be judged together.

    <set>/
      set.json            {"planned": N}: how many runs were asked for
      run-1/ run-2/ ...   each a run directory (see `results.py`), against a fresh mock
      run-K-interrupted/  the run Ctrl-C stopped, if one did: kept, but not one of the set

One run of a surge is one sample of how the venue behaves: a verdict near a threshold can come
out differently the next time. `stampede run --repeat N` writes a set; the report over it pools
the runs' samples for its intervals and says where each run alone found each SLO beginning.
"""

from __future__ import annotations

import json
from pathlib import Path

from loadtests.results import PROFILE_FILE, ResultsError, RunResult, read_run

RUN_PREFIX = "run-"
PLAN_FILE = "set.json"
INTERRUPTED_SUFFIX = "-interrupted"


def run_directory(set_directory: Path, number: int) -> Path:
    """The directory of the set's `number`-th run, counted from 1."""
    return set_directory / f"{RUN_PREFIX}{number}"


def write_plan(set_directory: Path, planned: int) -> None:
    """Record how many runs the set was asked for, so its report can tell a set Ctrl-C cut
    short from one asked for fewer runs."""
    set_directory.mkdir(parents=True, exist_ok=True)
    (set_directory / PLAN_FILE).write_text(json.dumps({"planned": planned}))


def planned_runs(set_directory: Path) -> int | None:
    """How many runs the set was asked for; None for a set written before this was recorded."""
    try:
        planned = json.loads((set_directory / PLAN_FILE).read_text()).get("planned")
    except (OSError, ValueError, AttributeError):
        return None
    return planned if type(planned) is int else None


def set_aside(run: Path) -> None:
    """Keep a run Ctrl-C stopped next to the set without making it one of the set's runs: its
    last step is cut short, and pooling it would judge that step on a part of its load."""
    if run.exists():
        run.rename(run.with_name(run.name + INTERRUPTED_SUFFIX))


def is_run_set(directory: Path) -> bool:
    """Whether `directory` holds a set of runs rather than one run."""
    return not (directory / PROFILE_FILE).exists() and bool(_members(directory))


def read_set(directory: Path) -> tuple[RunResult, ...]:
    """Every run of the set, in the order they ran; refuses runs of different profiles, whose
    steps could not be pooled."""
    runs = tuple(read_run(member) for member in _members(directory))
    if not runs:
        raise ResultsError(f"{directory}: no runs in this set")
    first = runs[0]
    for run in runs[1:]:
        if [p.name for p in run.profile.phases] != [p.name for p in first.profile.phases]:
            raise ResultsError(
                f"{run.directory.name} and {first.directory.name} ran different profiles: a "
                "set pools runs of one profile"
            )
    return runs


def _members(directory: Path) -> list[Path]:
    found = [
        path
        for path in directory.glob(f"{RUN_PREFIX}*")
        if path.name.removeprefix(RUN_PREFIX).isdigit() and (path / PROFILE_FILE).exists()
    ]
    return sorted(found, key=lambda path: int(path.name.removeprefix(RUN_PREFIX)))
