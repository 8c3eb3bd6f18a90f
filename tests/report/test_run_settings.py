from __future__ import annotations

from loadtests.report.run_settings import run_settings, setting
from loadtests.report.schema import Report


def _shown(report: Report, settings: dict[str, object]) -> Report:
    return report.model_copy(update={"settings": settings})


def test_what_shaped_the_run_comes_first_in_its_units(one_worker: Report) -> None:
    report = _shown(
        one_worker,
        {
            **one_worker.settings,
            "baseline_scale": 0.5,
            "client_ips": 4,
            "client_timeout": 10.0,
            "retry": "backoff",
            "phase_floor": 15.0,
            "origin": 1_760_130_000.0,
            "run_dir": "runs/one",
        },
    )

    shown = run_settings(report)

    assert [label for label, _ in shown.shaping] == [
        "profile",
        "time scale",
        "phase floor",
        "baseline (1×)",
        "baseline scale",
        "API workers",
        "client IPs",
        "client timeout",
        "retry policy",
    ]
    values = dict(shown.shaping)
    assert values["client timeout"] == "10 s"
    assert values["phase floor"] == "none: every phase compressed by the time scale"
    assert values["baseline scale"] == "0.5×"
    rest = dict(shown.rest)
    assert rest["origin"] == "2025-10-10 21:00:00 UTC"
    assert "run dir" in rest and "client timeout" not in rest and "phase floor" not in rest


def test_a_setting_the_run_did_not_record_is_left_out_of_the_leading_rows(
    one_worker: Report,
) -> None:
    shown = run_settings(_shown(one_worker, {"api_workers": 2}))

    assert [label for label, _ in shown.shaping][4:] == ["API workers"]
    assert shown.rest == ()


def test_settings_read_in_their_units() -> None:
    assert setting("probe_interval", 0.25) == "250 ms"
    assert setting("api_workers", None) == "not recorded"
    assert setting("traders", 40) == "40"
    assert setting("symbols", list(range(40))) == "40 entries"


def test_rate_limits_read_as_binance_states_them(one_worker: Report) -> None:
    assert setting("rate_limits", one_worker.settings["rate_limits"]) == (
        "REQUEST_WEIGHT 2,400 per 1 min; ORDERS 300 per 10 s; ORDERS 1,200 per 1 min"
    )
