"""The house's import rules, read from the source (every import, those only for type checking
included): data flows one way, so the HTTP edge sits beside the pipeline rather than on top of
it, the engine stays pure, and what only tests use stays out of the shipped packages."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ("exchange_mock", "loadtests")


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {
        module_name(path): path for package in SHIPPED for path in (ROOT / package).rglob("*.py")
    }


@cache
def imports_of(module: str) -> frozenset[str]:
    """Every module `module` names in an import: `from a.b import c` names `a.b.c` when that is a
    module, and `a.b` otherwise."""
    path = modules()[module]
    named: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            named.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                named.add(submodule if submodule in modules() else base)
    return frozenset(named)


def within(name: str, *packages: str) -> bool:
    return any(name == package or name.startswith(f"{package}.") for package in packages)


def offending(
    importers: str, forbidden: tuple[str, ...], exempt: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Each module under `importers` (bar `exempt`) with the forbidden modules it imports."""
    found: dict[str, list[str]] = {}
    for module in modules():
        if within(module, importers) and module not in exempt:
            bad = sorted(name for name in imports_of(module) if within(name, *forbidden))
            if bad:
                found[module] = bad
    return found


def test_the_rules_read_real_imports() -> None:
    """A guard on the reader itself: a rule that reads no imports passes whatever the code does."""
    assert "exchange_mock.api.context" in imports_of("exchange_mock.api.auth")
    assert "exchange_mock.engine.contract" in imports_of("exchange_mock.engine.positions")
    assert offending("exchange_mock.node", ("exchange_mock.engine",))


def test_the_api_imports_neither_the_node_nor_the_engine_nor_the_market() -> None:
    forbidden = ("exchange_mock.node", "exchange_mock.engine", "exchange_mock.market")
    assert offending("exchange_mock.api", forbidden) == {}


def test_the_engine_imports_no_other_part_of_the_pipeline_but_through_its_runner() -> None:
    others = ("exchange_mock.api", "exchange_mock.projector", "exchange_mock.feeds")
    assert offending("exchange_mock.engine", others) == {}
    io = ("exchange_mock.store", "exchange_mock.telemetry", "exchange_mock.node")
    assert offending("exchange_mock.engine", io, exempt=("exchange_mock.engine.runner",)) == {}


@pytest.mark.parametrize("package", SHIPPED)
def test_nothing_shipped_imports_the_tests_or_their_simulation(package: str) -> None:
    assert not (ROOT / "exchange_mock" / "market" / "simulation.py").exists()
    assert offending(package, ("tests",)) == {}


def test_configuration_and_observers_sit_at_the_bottom() -> None:
    pipeline = ("api", "engine", "feeds", "market", "node", "projector", "store", "telemetry")
    assert offending("exchange_mock.settings", tuple(f"exchange_mock.{p}" for p in pipeline)) == {}
    assert offending("exchange_mock.store", ("exchange_mock.telemetry",)) == {}
    assert offending("exchange_mock.telemetry", ("exchange_mock.feeds",)) == {}
    assert offending("loadtests", ("exchange_mock.market",)) == {}


def first_circle(graph: dict[str, frozenset[str]]) -> list[str] | None:
    """A path of imports that comes back to where it started, if there is one."""
    finished: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        path.append(module)
        for name in sorted(graph[module]):
            if name in path:
                return [*path[path.index(name) :], name]
            if name not in finished:
                circle = visit(name)
                if circle is not None:
                    return circle
        path.pop()
        finished.add(module)
        return None

    for module in sorted(graph):
        if module not in finished:
            circle = visit(module)
            if circle is not None:
                return circle
    return None


def test_the_shipped_packages_import_in_no_circle() -> None:
    graph = {
        module: frozenset(name for name in imports_of(module) if name in modules())
        for module in modules()
    }
    circle = first_circle(graph)
    assert circle is None, " → ".join(circle)
