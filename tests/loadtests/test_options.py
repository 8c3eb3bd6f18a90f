from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from locust.argument_parser import get_empty_argument_parser, setup_parser_arguments

from loadtests.options import (
    DEFAULT_RUNS_DIR,
    HarnessOptions,
    OptionsError,
    plan_run,
    read_options,
    register,
    scaled_profile,
    websocket_base,
)
from loadtests.profiles import load_profile
from loadtests.users.retry import RetryMode


def _parse(*args: str) -> argparse.Namespace:
    parser = get_empty_argument_parser(add_help=False, default_config_files=[])
    setup_parser_arguments(parser)
    register(parser)
    namespace: argparse.Namespace = parser.parse_args(["-f", "x.py", *args])
    return namespace


def test_every_harness_option_parses_from_the_command_line() -> None:
    parsed = _parse(
        "--profile", "oct-2025", "--time-scale", "12", "--baseline-scale", "0.5",
        "--run-dir", "out/run", "--accounts-file", "a.json", "--client-ips", "16",
        "--retry", "backoff", "--client-timeout", "3", "--expected-latency", "0.01",
        "--symbols", "btcusdt, ETHUSDT", "--ws-host", "ws://h:1", "--probe-accounts", "3",
        "--probe-interval", "0.5", "--admin-token", "t", "--account-seed", "s", "--accounts", "7",
        "--api-workers", "4",
    )  # fmt: skip
    assert read_options(parsed) == HarnessOptions(
        profile="oct-2025", time_scale=12, baseline_scale=0.5, run_dir=Path("out/run"),
        accounts_file=Path("a.json"), client_ips=16, retry=RetryMode.BACKOFF,
        client_timeout=3, expected_latency=0.01, symbols=("BTCUSDT", "ETHUSDT"),
        ws_host="ws://h:1", probe_accounts=3, probe_interval=0.5, admin_token="t",
        account_seed="s", accounts=7, api_workers=4,
    )  # fmt: skip


def test_defaults_need_only_a_profile() -> None:
    assert read_options(_parse("--profile", "step-ramp")) == HarnessOptions(profile="step-ramp")


def test_run_dir_sends_locusts_csvs_there_unless_csv_is_given() -> None:
    assert _parse("--run-dir", "out/run").csv_prefix == str(Path("out/run") / "locust")
    assert _parse("--run-dir", "out/run", "--csv", "else/x").csv_prefix == "else/x"
    assert _parse("--csv", "else/x", "--run-dir", "out/run").csv_prefix == "else/x"
    assert _parse().csv_prefix is None


def test_options_come_from_locust_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCUST_CLIENT_IPS", "9")
    monkeypatch.setenv("LOCUST_RETRY", "immediate")
    options = read_options(_parse("--profile", "step-ramp"))
    assert (options.client_ips, options.retry) == (9, RetryMode.IMMEDIATE)


def test_the_web_ui_forms_strings_and_blanks_are_understood() -> None:
    """Locust's web UI sends back each field as text, an empty one as ''."""
    form = vars(_parse("--profile", "step-ramp"))
    form |= {"time_scale": "", "run_dir": "", "client_ips": 4, "retry": "retry-after"}
    options = read_options(argparse.Namespace(**form))
    assert options.time_scale is None and options.run_dir is None
    assert options.retry is RetryMode.RETRY_AFTER


def test_a_run_needs_a_profile() -> None:
    with pytest.raises(OptionsError, match="--profile"):
        read_options(_parse())


def test_the_plan_scales_the_baseline_and_resolves_the_time_scale(tmp_path: Path) -> None:
    options = HarnessOptions(
        profile="oct-2025", baseline_scale=0.5, time_scale=60, accounts=10, probe_accounts=2,
        api_workers=3,
    )  # fmt: skip
    plan = plan_run(options, host="http://127.0.0.1:8000/", workers=2, origin=1_700_000_000)
    shipped = load_profile("oct-2025")
    assert plan.profile.baseline.orders == shipped.baseline.orders / 2
    assert plan.profile.time_scale == 60
    # At 60×, pre-event (10 s), the peak minute (1 s) and the tail (14 s) are held at 15 s.
    assert [w.duration for w in plan.timeline().windows] == [15, 25, 15, 15, 60]
    assert [w.duration for w in shipped.timeline(60).windows] == [10, 25, 1, 14, 60]
    assert (plan.host, plan.ws_host) == ("http://127.0.0.1:8000", "ws://127.0.0.1:8000")
    assert (len(plan.accounts.traders), len(plan.accounts.probes)) == (8, 2)
    assert plan.run_dir == DEFAULT_RUNS_DIR / "oct-2025-20231114-221320"
    settings = plan.settings()
    assert settings["workers"] == 2 and settings["time_scale"] == 60
    assert settings["phase_floor"] == 15
    assert settings["api_workers"] == 3, "what a scale-out fit places the run by"
    assert "admin_token" not in settings
    json.dumps(settings)


def test_the_plan_travels_as_json_and_comes_back_equal() -> None:
    plan = plan_run(
        HarnessOptions(profile="step-ramp", accounts=4), host="http://h", workers=1, origin=1.0
    )
    assert type(plan).model_validate_json(plan.model_dump_json()) == plan


def test_a_plan_needs_a_host() -> None:
    with pytest.raises(OptionsError, match="--host"):
        plan_run(HarnessOptions(profile="step-ramp"), host=None, workers=1, origin=0)


def test_scaling_keeps_the_profile_valid() -> None:
    profile = scaled_profile(load_profile("step-ramp"), baseline_scale=3, time_scale=None)
    assert profile.baseline.queries == 6 and profile.time_scale == 1


@pytest.mark.parametrize(
    ("host", "ws"),
    [("http://a:1", "ws://a:1"), ("https://a/", "wss://a"), ("http://a:1/x", "ws://a:1/x")],
)
def test_websocket_base_follows_the_host(host: str, ws: str) -> None:
    assert websocket_base(host) == ws


def test_websocket_base_refuses_what_is_not_http() -> None:
    with pytest.raises(OptionsError):
        websocket_base("ftp://a")
