"""The stack of docker-compose.yml, run as processes on loopback: every service of ours started
with its own command and environment (service names and container ports translated to this
machine), in its start order, and seen healthy by its own health check. Then a short run started
from the Locust web UI, as a user starts one, and the metrics every dashboard queries scraped
from the services; with Prometheus installed, Prometheus scrapes them as deploy/prometheus
configures it and each dashboard's queries return data."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from exchange_mock.redis_server import EmbeddedRedis, free_port
from tests.deploy.compose import ROOT, environment_of, prometheus_config, services
from tests.deploy.dashboards import Query, dashboard_files, load, panels, variables
from tests.loadtests.runs import profile_file

pytestmark = pytest.mark.timeout(300)

OURS = ("engine", "projector", "feeds", "makers", "api", "master", "worker")
"""The services that run this repository's image, in an order their dependencies allow."""
LISTEN_HOSTS = {
    "STAMPEDE_HOST",
    "LOCUST_WEB_HOST",
    "LOCUST_MASTER_BIND_HOST",
    "LOCUST_METRICS_HOST",
}
OWN_PORTS = {
    "STAMPEDE_PORT",
    "STAMPEDE_METRICS_PORT",
    "LOCUST_WEB_PORT",
    "LOCUST_MASTER_BIND_PORT",
    "LOCUST_METRICS_PORT",
}
URL = re.compile(r"^(\w+)://(?:[^@/]*@)?([\w.-]+):(\d+)")
"""A URL's scheme, host and port; credentials are dropped with the host they were for."""
START_TIMEOUT_S = 90
RATE_INTERVAL = "15s"
"""Grafana's $__rate_interval as it would be with the 1 s scrapes of the test's Prometheus."""
BASELINE = {"orders": 4, "queries": 4, "market_data": 4}
ONE_ADDRESS_WEIGHT = 2400
"""What one client IP may spend a minute."""
ACCOUNT_READ_WEIGHT = 5
"""What each of positionRisk, account and balance (the /fapi/v2 reads) weighs."""
PHASES = [
    "{name: calm, duration_s: 20, multipliers: {orders: 1, queries: 1, market_data: 1}}",
    "{name: surge, duration_s: 280, multipliers: {orders: 2, queries: 2, market_data: 2}}",
]
"""Longer than the module runs: the harness exports a run's metrics while it is in progress."""


class Loopback:
    """Where each service's container ports are on this machine, and its environment with the
    compose network's names translated to them."""

    def __init__(self, redis_url: str, names: set[str], key_prefix: str) -> None:
        self.redis_url = redis_url
        self._names = names
        self._key_prefix = key_prefix
        self._ports: dict[tuple[str, int], int] = {}

    def port(self, service: str, container_port: int) -> int:
        key = (service, container_port)
        if key not in self._ports:
            self._ports[key] = free_port()
        return self._ports[key]

    def url(self, service: str, container_port: int) -> str:
        return f"http://127.0.0.1:{self.port(service, container_port)}"

    def environment(self, service: str, compose_env: dict[str, str]) -> dict[str, str]:
        env = {
            name: self._translate(service, name, value, compose_env)
            for name, value in compose_env.items()
        }
        env["STAMPEDE_KEY_PREFIX"] = self._key_prefix
        return env

    def _translate(self, service: str, name: str, value: str, compose_env: dict[str, str]) -> str:
        if name in LISTEN_HOSTS or name == "LOCUST_MASTER_NODE_HOST":
            return "127.0.0.1"
        if name == "STAMPEDE_TRUSTED_PROXIES":
            return '["127.0.0.1"]'  # the front-end network's containers are loopback here
        if name in OWN_PORTS and value != "0":
            return str(self.port(service, int(value)))
        if name == "LOCUST_MASTER_NODE_PORT":
            return str(self.port(compose_env["LOCUST_MASTER_NODE_HOST"], int(value)))
        return URL.sub(self._translate_url, value)

    def _translate_url(self, match: re.Match[str]) -> str:
        scheme, host, port = match.groups()
        if host == "redis":
            return f"{scheme}://{urlsplit(self.redis_url).netloc}"
        if host in self._names:
            return f"{scheme}://127.0.0.1:{self.port(host, int(port))}"
        return match.group(0)


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    healthcheck: list[str] | None
    depends_on: list[str]
    process: subprocess.Popen[bytes] | None = None
    healthy: bool = False
    log: Path | None = None

    def ready_url(self) -> str | None:
        """What answers once the service is up, polled before its own health check runs."""
        if "LOCUST_WEB_PORT" in self.env:
            return f"http://127.0.0.1:{self.env['LOCUST_WEB_PORT']}/"
        if "STAMPEDE_ROLES" not in self.env:
            return None
        roles = json.loads(self.env["STAMPEDE_ROLES"])
        port = self.env["STAMPEDE_PORT"] if "api" in roles else self.env["STAMPEDE_METRICS_PORT"]
        return f"http://127.0.0.1:{port}/metrics"

    def run_healthcheck(self) -> subprocess.CompletedProcess[str]:
        assert self.healthcheck is not None
        kind, *rest = self.healthcheck
        argv = ["sh", "-c", rest[0]] if kind == "CMD-SHELL" else rest
        return subprocess.run(
            argv, env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=15, check=False
        )


def _base_environment() -> dict[str, str]:
    """This machine's environment without any setting of ours, with this interpreter's
    `python` and `locust` first on the PATH, as the image has them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STAMPEDE_", "LOCUST_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(
    condition: Callable[[], bool], timeout_s: float, what: str, state: Callable[[], object] = str
) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}: {state()}"
        time.sleep(0.2)


def _scrape(url: str) -> dict[str, float]:
    """Sample name (with labels) -> value, of one /metrics page."""
    text = httpx.get(url, timeout=5).text
    return {
        sample.name + json.dumps(sample.labels, sort_keys=True): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _names(samples: dict[str, float]) -> set[str]:
    return {key.split("{", 1)[0] for key in samples}


@dataclass
class Stack:
    services: dict[str, Service]
    loopback: Loopback
    run_started: bool = False
    scrape_urls: dict[str, str] = field(default_factory=dict)

    def metrics_url(self, name: str) -> str:
        return self.scrape_urls[name]


def _start(stack: ExitStack, service: Service, logs: Path) -> None:
    service.log = logs / f"{service.name}.log"
    output = stack.enter_context(service.log.open("wb"))
    service.process = subprocess.Popen(
        service.command, env=service.env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
    )

    def stop() -> None:
        assert service.process is not None
        service.process.terminate()
        try:
            service.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            service.process.kill()
            service.process.wait()

    stack.callback(stop)


def _bring_up(stack: ExitStack, found: dict[str, Service], logs: Path) -> None:
    """Start each service once its dependencies are healthy; a service is healthy once its
    own health check passes (or, with none, once the master counts it as a worker)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not all(service.healthy for service in found.values()):
        for service in found.values():
            ready = all(found[d].healthy for d in service.depends_on if d in found)
            if service.process is None and ready:
                _start(stack, service, logs)
        for service in found.values():
            if service.process is None or service.healthy:
                continue
            assert service.process.poll() is None, (
                f"{service.name} exited: {service.log.read_text()[-3000:] if service.log else ''}"
            )
            service.healthy = _is_healthy(service, found)
        assert time.monotonic() < deadline, {s.name: s.healthy for s in found.values()}
        time.sleep(0.3)


def _is_healthy(service: Service, found: dict[str, Service]) -> bool:
    if service.healthcheck is None:
        master = found["master"].env["LOCUST_WEB_PORT"]
        stats = httpx.get(f"http://127.0.0.1:{master}/stats/requests", timeout=5).json()
        return bool(stats.get("worker_count", 0) >= 1)
    url = service.ready_url()
    if url is not None and not _answers(url):
        return False
    checked = service.run_healthcheck()
    return checked.returncode == 0


@pytest.fixture(scope="module")
def stack(redis_server: EmbeddedRedis, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    compose = services()
    loopback = Loopback(redis_server.url, set(compose), f"stack-{time.time_ns()}")
    base = _base_environment()
    found: dict[str, Service] = {}
    for name in OURS:
        spec = compose[name]
        healthcheck = spec.get("healthcheck", {}).get("test")
        found[name] = Service(
            name=name,
            command=list(spec["command"]),
            env={**base, **loopback.environment(name, environment_of(spec))},
            healthcheck=healthcheck,
            depends_on=list(spec.get("depends_on", {})),
        )
    logs = tmp_path_factory.mktemp("stack-logs")
    with ExitStack() as processes:
        _bring_up(processes, found, logs)
        result = Stack(found, loopback)
        result.scrape_urls = {
            name: f"http://127.0.0.1:{found[name].env['STAMPEDE_METRICS_PORT']}/metrics"
            for name in ("engine", "projector", "feeds", "makers")
        }
        result.scrape_urls["api"] = f"{loopback.url('api', 8000)}/metrics"
        master = found["master"].env
        result.scrape_urls["master"] = f"http://127.0.0.1:{master['LOCUST_METRICS_PORT']}/metrics"
        _start_a_run(found, tmp_path_factory.mktemp("profile"))
        result.run_started = True
        yield result


def _start_a_run(found: dict[str, Service], directory: Path) -> None:
    """Start a short profile from the master's web UI, as a user would, and wait until every
    request class and the feeds have been measured."""
    master = found["master"].env
    profile = profile_file(directory, "stack", BASELINE, PHASES)
    form = {"user_count": "1", "spawn_rate": "1", "host": master["LOCUST_HOST"]}
    started = httpx.post(
        f"http://127.0.0.1:{master['LOCUST_WEB_PORT']}/swarm",
        data={**form, "profile": str(profile), "run_dir": str(directory / "run")},
        timeout=10,
    )
    assert started.json()["success"], started.text
    metrics = f"http://127.0.0.1:{master['LOCUST_METRICS_PORT']}/metrics"

    def unmeasured() -> list[str]:
        samples = _scrape(metrics)
        missing = [
            klass
            for klass in BASELINE
            if not samples.get(
                "stampede_harness_requests_total"
                + json.dumps({"class": klass, "outcome": "success"}, sort_keys=True)
            )
        ]
        marks = [v for k, v in samples.items() if "feed_events" in k and "mark_price" in k]
        return missing if sum(marks) > 0 else [*missing, "mark_price"]

    def logs() -> str:
        return "\n".join(
            f"{name}: {log.read_text()[-2000:]}"
            for name in ("master", "worker")
            if (log := found[name].log) is not None
        )

    _wait(
        lambda: not unmeasured(),
        60,
        "the run's first measurements on the master",
        lambda: f"{unmeasured()} unmeasured\n{logs()}",
    )


def test_every_service_of_ours_starts_on_loopback_and_passes_its_own_health_check(
    stack: Stack,
) -> None:
    for service in stack.services.values():
        assert service.healthy, service.name
        assert service.process is not None and service.process.poll() is None, service.name
        if service.healthcheck is not None:
            checked = service.run_healthcheck()
            assert checked.returncode == 0, (service.name, checked.stderr)


def test_every_metric_a_dashboard_queries_is_exported_during_a_run(stack: Stack) -> None:
    exported: set[str] = set()
    for url in stack.scrape_urls.values():
        exported |= _names(_scrape(url))
    missing = {
        (path.stem, query.panel, name)
        for path in dashboard_files()
        for board in [load(path)]
        for query in _queries(board)
        for name in query.metrics()
        if name not in exported
    }
    assert missing == set()


def test_each_role_exports_what_it_owns_and_only_that(stack: Stack) -> None:
    names = {name: _names(_scrape(url)) for name, url in stack.scrape_urls.items()}
    assert "stampede_exchange_order_queue_depth" in names["engine"]
    assert "stampede_exchange_projector_lag_seconds" in names["projector"]
    assert "stampede_exchange_liquidation_messages_total" in names["feeds"]
    assert "stampede_exchange_requests_total" in names["api"]
    assert "stampede_harness_requests_total" in names["master"]
    pipeline_state = "stampede_exchange_insurance_fund_usdt"
    assert [role for role, found in names.items() if pipeline_state in found] == ["projector"]


def test_any_api_worker_scraped_reports_every_worker_s_requests(stack: Stack) -> None:
    api, key = stack.scrape_urls["api"].removesuffix("/metrics"), "stampede_exchange_requests_total"
    labels = json.dumps({"endpoint": "unmatched", "method": "GET", "status": "404"}, sort_keys=True)
    before = _scrape(stack.scrape_urls["api"]).get(key + labels, 0)
    for n in range(30):  # a connection each, so the kernel spreads them over the workers
        assert httpx.get(f"{api}/no-such-route/{n}", timeout=5).status_code == 404
    for _ in range(4):
        assert _scrape(stack.scrape_urls["api"]).get(key + labels, 0) == before + 30


def _queries(board: dict[str, Any]) -> list[Query]:
    return [
        Query(board["title"], panel["title"], target["expr"])
        for panel in panels(board)
        for target in panel["targets"]
    ]


def _prometheus_config(stack: Stack) -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml with its targets on loopback and 1 s scrapes."""
    config = prometheus_config()
    config["global"].update(scrape_interval="1s", scrape_timeout="1s", evaluation_interval="1s")
    for job in config["scrape_configs"]:
        for static in job.get("static_configs", []):
            static["targets"] = [
                f"127.0.0.1:{stack.loopback.port(host, int(port))}"
                for host, port in (target.split(":") for target in static["targets"])
            ]
        for discovery in job.pop("dns_sd_configs", []):
            port = discovery["port"]
            targets = [
                f"127.0.0.1:{stack.loopback.port(name, port)}" for name in discovery["names"]
            ]
            job.setdefault("static_configs", []).append({"targets": targets})
    return config


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip(
            "Prometheus is not installed (Debian: apt-get install prometheus), so the "
            "dashboards' queries were not run against a real Prometheus"
        )
    directory = tmp_path_factory.mktemp("prometheus")
    config = directory / "prometheus.yml"
    config.write_text(yaml.safe_dump(_prometheus_config(stack)))
    port = free_port()
    command = [
        binary, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn",
    ]  # fmt: skip
    with (directory / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            _wait(lambda: _answers(f"{url}/-/ready"), 30, "Prometheus to start")
            _wait(
                lambda: _targets_up(url, len(stack.scrape_urls)),
                30,
                "every target up",
                lambda: _targets(url),
            )
            # Enough scrapes for the achieved rate over the dashboards' window to show the run
            # (the master's figures move with each worker report, every few seconds).
            achieved = (
                f'rate(stampede_harness_requests_total{{outcome="success"}}[{RATE_INTERVAL}]) > 0'
            )
            _wait(
                lambda: _has_data(url, achieved),
                30,
                "the run's rate in Prometheus",
                lambda: (
                    _targets(url),
                    _query(url, 'stampede_harness_requests_total{outcome="success"}[30s]'),
                    _scrape(stack.scrape_urls["master"]),
                ),
            )
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


def _targets(url: str) -> dict[str, str]:
    """Each target's health, or the error of its last scrape."""
    targets = httpx.get(f"{url}/api/v1/targets", timeout=5).json()["data"]["activeTargets"]
    return {t["scrapeUrl"]: t["lastError"] or t["health"] for t in targets}


def _targets_up(url: str, expected: int) -> bool:
    health = _targets(url)
    return len(health) == expected and set(health.values()) == {"up"}


def _query(url: str, expr: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(
        f"{url}/api/v1/query", params={"query": expr}, timeout=10
    ).json()
    return answer


def _has_data(url: str, expr: str) -> bool:
    answer = _query(url, expr)
    return answer["status"] == "success" and bool(answer["data"]["result"])


def test_prometheus_scrapes_every_service_with_the_shipped_configuration(
    prometheus: str, stack: Stack
) -> None:
    assert _targets_up(prometheus, len(stack.scrape_urls))
    targets = httpx.get(f"{prometheus}/api/v1/targets").json()["data"]["activeTargets"]
    assert {t["labels"]["job"] for t in targets} == {"exchange-api", "exchange-roles", "harness"}


@pytest.mark.parametrize("path", dashboard_files(), ids=lambda path: path.stem)
def test_every_panel_of_each_dashboard_shows_data_from_prometheus(
    prometheus: str, path: Path
) -> None:
    board = load(path)
    values = variables(board)
    empty, failed = [], []
    for panel in panels(board):
        rendered = [
            Query(board["title"], panel["title"], target["expr"]).rendered(values, RATE_INTERVAL)
            for target in panel["targets"]
        ]
        answers = [_query(prometheus, expr) for expr in rendered]
        failed += [(panel["title"], a.get("error")) for a in answers if a["status"] != "success"]
        if not any(a.get("data", {}).get("result") for a in answers):
            empty.append(panel["title"])
    assert failed == []
    assert empty == []


def test_the_run_s_crowd_of_client_ips_is_neither_rate_limited_nor_banned(stack: Stack) -> None:
    """The harness's load comes from thousands of client IPs (X-Forwarded-For), which the API
    believes from the load generators: more account reads than one address may weigh in a
    minute go out (the probes' and the position queries'), and the API refuses none of them, nor
    anything else, for an address's limit. Last in the module: the run has been going longest."""
    api = stack.metrics_url("api")

    def requests() -> list[tuple[dict[str, str], float]]:
        name = "stampede_exchange_requests_total"
        return [
            (json.loads(key.removeprefix(name)), value)
            for key, value in _scrape(api).items()
            if key.startswith(name + "{")
        ]

    def answered(status: str) -> float:
        return sum(
            v
            for labels, v in requests()
            if labels["status"] == status and "/fapi/v2/" in labels["endpoint"]
        )

    def refused() -> list[tuple[dict[str, str], float]]:
        return [(labels, v) for labels, v in requests() if labels["status"] in ("429", "418")]

    _wait(
        lambda: answered("200") * ACCOUNT_READ_WEIGHT > ONE_ADDRESS_WEIGHT or any(refused()),
        90,
        "more account reads than one address may send in a minute",
        lambda: answered("200"),
    )
    assert refused() == [], refused()
