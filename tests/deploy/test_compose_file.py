"""The Compose file: valid against the Compose Specification, and the stack it describes started
in order, on loopback, within limits, scraped and shown without manual steps."""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml
from locust.argument_parser import get_parser

from exchange_mock.settings import Role, Settings
from loadtests import options, telemetry
from tests.deploy.compose import (
    COMPOSE_SCHEMA,
    DASHBOARDS,
    GRAFANA_PROVISIONING,
    PROMETHEUS_FILE,
    ROOT,
    SECRETS,
    MissingVariable,
    compose,
    environment_of,
    interpolate,
    prometheus_config,
    raw_compose,
    services,
)
from tests.deploy.dashboards import dashboard_files, load, panels

EXCHANGE_ROLES = {"engine", "projector", "feeds", "makers", "api"}
"""The exchange's services: one per role, named for it."""
OURS = EXCHANGE_ROLES | {"master", "worker"}
"""The services that run this repository's image."""
GRAFANA_OFFLINE = (
    "GF_ANALYTICS_CHECK_FOR_UPDATES",
    "GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES",
    "GF_ANALYTICS_REPORTING_ENABLED",
    "GF_NEWS_NEWS_FEED_ENABLED",
)


def _validator() -> Any:
    jsonschema = pytest.importorskip(
        "jsonschema",
        reason="the jsonschema package is not installed, so the Compose file cannot be checked "
        "against the Compose Specification's schema (pip install jsonschema)",
    )
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def test_the_compose_file_is_valid_against_the_compose_specification() -> None:
    validator = _validator()
    for document in (raw_compose(), compose()):  # as written, and with its defaults resolved
        errors = validator.iter_errors(document)
        assert [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors] == []


def test_the_schema_refuses_what_compose_would_refuse() -> None:
    validator = _validator()
    document = compose()
    document["services"]["api"]["depends_on"]["engine"] = {"condition": "service_ready"}
    document["services"]["worker"]["restart_policy"] = "always"
    assert len(list(validator.iter_errors(document))) == 2


def test_every_published_port_is_bound_to_loopback() -> None:
    published = {
        name: port for name, service in services().items() for port in service.get("ports", [])
    }
    assert published
    for name, port in published.items():
        assert isinstance(port, str) and port.startswith("127.0.0.1:"), (name, port)


def test_each_role_of_the_exchange_runs_apart_from_one_image() -> None:
    found = services()
    for name in EXCHANGE_ROLES:
        service = found[name]
        assert service["command"] == ["python", "-m", "exchange_mock"]
        assert json.loads(environment_of(service)["STAMPEDE_ROLES"]) == [Role(name).value]
    # The API's health hears of every other role through its heartbeat.
    peers = json.loads(environment_of(found["api"])["STAMPEDE_PEER_ROLES"])
    assert sorted(peers) == sorted(Role(name).value for name in EXCHANGE_ROLES if name != "api")
    assert {found[name]["image"] for name in OURS} == {"stampede:local"}
    assert all(found[name]["build"]["context"] == "." for name in OURS)


def test_the_services_that_scale_have_nothing_that_would_clash() -> None:
    found = services()
    for name in ("api", "worker"):
        assert "container_name" not in found[name]
    # One host port per replica of the API, from a range; workers publish none.
    assert re.fullmatch(r"127\.0\.0\.1:\d+-\d+:8000", found["api"]["ports"][0])
    assert "ports" not in found["worker"]
    assert int(environment_of(found["api"])["STAMPEDE_API_WORKERS"]) > 1


def test_start_order_waits_for_health_and_every_dependency_has_a_health_check() -> None:
    found = services()
    for name, service in found.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)
            assert "test" in found[dependency]["healthcheck"], dependency
    assert set(found["api"]["depends_on"]) >= {"engine", "projector", "feeds"}
    assert set(found["engine"]["depends_on"]) == {"redis"}
    assert set(found["worker"]["depends_on"]) == {"master"}


def test_every_service_has_resource_limits() -> None:
    for name, service in services().items():
        limits = service["deploy"]["resources"]["limits"]
        assert float(limits["cpus"]) > 0 and limits["memory"], name


def test_redis_persists_append_only_on_a_volume() -> None:
    redis = services()["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(volume.endswith(":/data") for volume in redis["volumes"])


def test_prometheus_scrapes_every_exchange_process_and_the_master() -> None:
    found = services()
    jobs = {job["job_name"]: job for job in prometheus_config()["scrape_configs"]}
    api = jobs["exchange-api"]["dns_sd_configs"][0]
    assert api["names"] == ["api"] and api["type"] == "A"
    assert str(api["port"]) == environment_of(found["api"])["STAMPEDE_PORT"]
    targets = {
        target
        for job in jobs.values()
        for config in job.get("static_configs", [])
        for target in config["targets"]
    }
    expected = {
        f"{name}:{environment_of(found[name])['STAMPEDE_METRICS_PORT']}"
        for name in EXCHANGE_ROLES - {"api"}
    } | {f"master:{environment_of(found['master'])['LOCUST_METRICS_PORT']}"}
    assert targets == expected
    # The API serves its metrics on its own port; only the other roles open one.
    assert environment_of(found["api"])["STAMPEDE_METRICS_PORT"] == "0"


def test_grafana_opens_on_the_overview_with_its_datasource_and_dashboards_provisioned() -> None:
    grafana = services()["grafana"]
    mounts = dict(volume.rsplit(":", 2)[:2] for volume in grafana["volumes"] if ":" in volume)
    dashboards_in_container = mounts["./dashboards"]
    assert mounts["./deploy/grafana/provisioning"] == "/etc/grafana/provisioning"
    home = environment_of(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(dashboards_in_container + "/")
    assert load(DASHBOARDS / home.removeprefix(dashboards_in_container + "/"))["title"] == (
        "Stampede overview"
    )
    (provider,) = yaml.safe_load(
        (GRAFANA_PROVISIONING / "dashboards" / "stampede.yml").read_text()
    )["providers"]
    assert provider["options"]["path"] == dashboards_in_container
    (source,) = yaml.safe_load(
        (GRAFANA_PROVISIONING / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    used = {
        panel["datasource"]["uid"] for path in dashboard_files() for panel in panels(load(path))
    }
    assert used == {source["uid"]}


def test_nothing_needs_the_internet_at_run_time() -> None:
    grafana = environment_of(services()["grafana"])
    for switch in GRAFANA_OFFLINE:
        assert grafana[switch] == "false", switch
    assert not any("GF_INSTALL_PLUGINS" in environment_of(s) for s in services().values())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile
    assert 'CMD ["python", "-m", "exchange_mock"]' in dockerfile


def _locust_environment_variables() -> set[str]:
    """Every LOCUST_* variable Locust reads, its own options' and the harness's."""
    parser = get_parser()
    options.register(parser)
    telemetry.register(parser)
    return {action.env_var for action in parser._actions if getattr(action, "env_var", None)}


def test_every_variable_set_for_a_service_is_one_its_program_reads() -> None:
    known_locust = _locust_environment_variables()
    known_stampede = {f"STAMPEDE_{name.upper()}" for name in Settings.model_fields}
    for name, service in services().items():
        for variable in environment_of(service):
            if variable.startswith("LOCUST_"):
                assert variable in known_locust, (name, variable)
            elif variable.startswith("STAMPEDE_"):
                assert variable in known_stampede, (name, variable)


def test_promtool_accepts_the_prometheus_configuration() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian: apt-get install prometheus)")
    checked = subprocess.run(
        [promtool, "check", "config", str(PROMETHEUS_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_secrets_have_no_defaults_so_compose_refuses_to_start_without_them() -> None:
    for name in SECRETS:
        without = {k: v for k, v in SECRETS.items() if k != name}
        with pytest.raises(MissingVariable):
            interpolate(raw_compose(), without)


def test_redis_and_the_internal_roles_sit_on_a_back_end_the_load_generators_are_not_on() -> None:
    found = services()
    assert compose()["networks"]["backend"]["internal"] is True
    backend = {name for name, service in found.items() if "backend" in service["networks"]}
    assert backend == {"redis", "engine", "projector", "feeds", "makers", "api", "prometheus"}
    for name in ("master", "worker", "grafana"):
        assert found[name]["networks"] == ["frontend"], name


def test_the_api_believes_the_load_generators_client_ips_and_no_one_else_s(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each load generator speaks for a crowd of client IPs through X-Forwarded-For: the API
    trusts every address the front-end network gives a container, and not its gateway, through
    which anyone reaching a published port arrives."""
    [pool] = compose()["networks"]["frontend"]["ipam"]["config"]
    containers = ipaddress.ip_network(pool["ip_range"])
    assert containers.subnet_of(ipaddress.ip_network(pool["subnet"]))
    variable = "STAMPEDE_TRUSTED_PROXIES"
    monkeypatch.setenv(variable, environment_of(services()["api"])[variable])
    trusted = Settings().trusted_proxies  # read as the container reads it
    assert {ipaddress.ip_network(entry) for entry in trusted} == {containers}
    assert ipaddress.ip_address(pool["gateway"]) not in containers
    for generator in ("master", "worker"):
        assert services()[generator]["networks"] == ["frontend"], generator


def test_redis_requires_its_password_and_every_client_sends_it() -> None:
    found = services()
    command = found["redis"]["command"]
    password = command[command.index("--requirepass") + 1]
    assert password == SECRETS["REDIS_PASSWORD"]
    for name in EXCHANGE_ROLES:
        url = environment_of(found[name])["STAMPEDE_REDIS_URL"]
        assert url == f"redis://:{password}@redis:6379/0", name


def test_grafana_and_the_operator_api_take_the_secrets_given() -> None:
    found = services()
    grafana = environment_of(found["grafana"])
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]
    token = SECRETS["STAMPEDE_ADMIN_TOKEN"]
    assert environment_of(found["api"])["STAMPEDE_ADMIN_TOKEN"] == token
    assert environment_of(found["master"])["LOCUST_ADMIN_TOKEN"] == token
