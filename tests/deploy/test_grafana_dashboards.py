"""The dashboards are Grafana dashboards Grafana can load: identity, layout, and panels that
each query our Prometheus datasource for our metrics."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.dashboards import METRIC, dashboard_files, load, panels, queries, variables

DATASOURCE = {"type": "prometheus", "uid": "stampede-prometheus"}
PANEL_TYPES = {"timeseries", "stat", "gauge", "bargauge", "table", "state-timeline", "text"}
GRID_WIDTH = 24
EXPECTED = {"stampede-overview", "stampede-loadtest", "stampede-cascade"}


@pytest.fixture(params=dashboard_files(), ids=lambda path: path.stem)
def board(request: pytest.FixtureRequest) -> dict[str, Any]:
    path: Path = request.param
    loaded = load(path)
    assert loaded["uid"] == path.stem, "the file is named for the dashboard's uid"
    return loaded


def test_the_three_dashboards_are_there_with_distinct_uids_and_titles() -> None:
    boards = [load(path) for path in dashboard_files()]
    assert {board["uid"] for board in boards} == EXPECTED
    assert len({board["title"] for board in boards}) == len(boards)


def test_a_dashboard_has_what_grafana_needs_to_load_it(board: dict[str, Any]) -> None:
    assert 0 < len(board["uid"]) <= 40
    assert board["title"] and board["description"]
    assert isinstance(board["schemaVersion"], int) and board["schemaVersion"] >= 36
    assert "stampede" in board["tags"]
    assert board["time"]["from"].startswith("now-")
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"


def test_panels_fit_the_grid_without_overlapping(board: dict[str, Any]) -> None:
    cells: Counter[tuple[int, int]] = Counter()
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert all(isinstance(grid[k], int) for k in ("x", "y", "w", "h"))
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= GRID_WIDTH
        columns = range(grid["x"], grid["x"] + grid["w"])
        cells.update((x, y) for x in columns for y in range(grid["y"], grid["y"] + grid["h"]))
    assert max(cells.values()) == 1


def test_every_panel_queries_our_datasource_for_our_metrics(board: dict[str, Any]) -> None:
    shown = list(panels(board))
    assert shown
    for panel in shown:
        assert panel["type"] in PANEL_TYPES, panel["title"]
        assert panel["title"] and panel["description"]
        assert panel["datasource"] == DATASOURCE
        targets = panel["targets"]
        assert targets, f"{panel['title']} has no queries"
        assert len({t["refId"] for t in targets}) == len(targets)
        for target in targets:
            assert target["datasource"] == DATASOURCE
            assert METRIC.search(target["expr"]), target["expr"]
            assert target["expr"].count("(") == target["expr"].count(")")
            assert target["expr"].count("[") == target["expr"].count("]")


def test_every_variable_a_query_uses_is_defined_with_a_default(board: dict[str, Any]) -> None:
    defined = variables(board)
    for query in queries(board):
        rendered = query.rendered(defined, "30s")
        assert "$" not in rendered, f"{query.panel}: {rendered}"
