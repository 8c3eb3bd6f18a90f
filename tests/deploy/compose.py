"""The repository's deployment files as tests read them: the Compose file with its variables
resolved to their defaults (as `docker compose` resolves them with none set but the secrets it
requires), and the Prometheus and Grafana provisioning."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
GRAFANA_PROVISIONING = ROOT / "deploy" / "grafana" / "provisioning"
DASHBOARDS = ROOT / "dashboards"
COMPOSE_SCHEMA = ROOT / "tests" / "fixtures" / "compose" / "compose-spec.json"

_VARIABLE = re.compile(r"\$\{(\w+)(?::?-([^}]*)|:\?([^}]*))?\}|\$\$")
SECRETS = {
    "REDIS_PASSWORD": "redis-test-password",
    "STAMPEDE_ADMIN_TOKEN": "admin-test-token-of-some-length",
    "GRAFANA_ADMIN_PASSWORD": "grafana-test-password",
}
"""What a user must set before `docker compose up`: the file has no default for any."""


class MissingVariable(KeyError):
    """A `${NAME:?message}` with NAME unset: Compose refuses to start."""


def interpolate(value: Any, environment: dict[str, str] | None = None) -> Any:
    """`${NAME:-default}`, `${NAME-default}`, `${NAME:?message}` and `${NAME}` resolved as
    Compose does, `$$` as `$`, in every string of `value`."""
    env = environment or {}
    if isinstance(value, str):

        def resolve(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            if match.group(3) is not None and not env.get(match.group(1)):
                raise MissingVariable(match.group(1))
            return env.get(match.group(1)) or match.group(2) or ""

        return _VARIABLE.sub(resolve, value)
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    return value


def raw_compose() -> dict[str, Any]:
    """The file as YAML reads it (anchors and merge keys applied, variables not resolved)."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return document


def compose() -> dict[str, Any]:
    resolved: dict[str, Any] = interpolate(raw_compose(), SECRETS)
    return resolved


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


def prometheus_config() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(PROMETHEUS_FILE.read_text())
    return config
