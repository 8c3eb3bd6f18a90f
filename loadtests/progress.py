"""The live progress file a running load test rewrites about once a second (`progress.json` in
the run directory): what `stampede run` shows while Locust runs in its own process."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

PROGRESS_FILE = "progress.json"


class Progress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    elapsed_s: float = 0.0
    duration_s: float = 0.0
    phase: str = ""
    step_index: int = 0
    multipliers: dict[str, float] = Field(default_factory=dict)
    offered: dict[str, float] = Field(default_factory=dict)
    achieved: dict[str, float] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict)
    retries: dict[str, int] = Field(default_factory=dict)
    """Per request class, attempts beyond the first so far."""
    stale_pct: float | None = None
    feed_lag_p99_ms: float | None = None
    feed_completeness: float | None = None
    """The step's liquidation-feed events ÷ true liquidations; None while none happened."""
    users: int = 0
    done: bool = False


def write_progress(run_dir: Path, progress: Progress) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    partial = run_dir / f".{PROGRESS_FILE}.tmp"
    partial.write_text(progress.model_dump_json())
    os.replace(partial, run_dir / PROGRESS_FILE)


def read_progress(run_dir: Path) -> Progress | None:
    try:
        return Progress.model_validate_json((run_dir / PROGRESS_FILE).read_text())
    except (FileNotFoundError, ValidationError):
        return None
