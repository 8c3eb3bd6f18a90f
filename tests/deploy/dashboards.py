"""The Grafana dashboards kept in `dashboards/`, and the PromQL their panels run."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.deploy.compose import DASHBOARDS

METRIC = re.compile(r"\b(stampede_[a-z0-9_]+)\b")
RATE_INTERVAL = "$__rate_interval"


@dataclass(frozen=True)
class Query:
    dashboard: str
    panel: str
    expr: str

    def metrics(self) -> set[str]:
        """The metric (sample) names the query reads."""
        return set(METRIC.findall(self.expr))

    def rendered(self, variables: dict[str, str], rate_interval: str) -> str:
        """The query as Grafana sends it, with the dashboard's variables at the given values."""
        expr = self.expr.replace(RATE_INTERVAL, rate_interval)
        for name, value in variables.items():
            expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
        return expr


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that shows data (rows only group them)."""
    for panel in board["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def variables(board: dict[str, Any]) -> dict[str, str]:
    """Each template variable at its default value."""
    return {v["name"]: v["current"]["value"] for v in board.get("templating", {}).get("list", [])}


def queries(board: dict[str, Any]) -> Iterator[Query]:
    for panel in panels(board):
        for target in panel["targets"]:
            yield Query(board["title"], panel["title"], target["expr"])
