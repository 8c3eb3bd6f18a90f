"""The operator API's guard: loopback only by default, token when configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from exchange_mock.api.admin_auth import check_admin, guard_operator_api
from exchange_mock.errors import ConfigError, ExchangeError
from exchange_mock.settings import Settings


def test_loopback_peers_pass_without_a_token_when_none_is_set() -> None:
    for peer in ("127.0.0.1", "127.5.0.9", "::1"):
        check_admin(Settings(), peer, None)


def test_other_peers_are_refused_unless_remote_access_is_enabled() -> None:
    with pytest.raises(ExchangeError) as refused:
        check_admin(Settings(), "10.1.2.3", None)
    assert refused.value.http_status == 403
    check_admin(Settings(admin_remote=True), "10.1.2.3", None)


def test_a_configured_token_is_required_even_on_loopback() -> None:
    settings = Settings(admin_token="s3cret")
    with pytest.raises(ExchangeError) as refused:
        check_admin(settings, "127.0.0.1", "wrong")
    assert refused.value.http_status == 401
    check_admin(settings, "127.0.0.1", "s3cret")


@pytest.mark.parametrize("header", ["X-Forwarded-For", "Forwarded", "X-Real-IP"])
def test_a_loopback_proxy_relaying_someone_else_is_not_loopback(header: str) -> None:
    """A reverse proxy on the same host is a loopback peer; whoever it relays is not."""
    with pytest.raises(ExchangeError) as refused:
        check_admin(Settings(), "127.0.0.1", None, relayed={header.lower(): "203.0.113.9"})
    assert refused.value.http_status == 403


def test_a_trusted_proxy_is_judged_by_the_client_it_names() -> None:
    trusted = Settings(trusted_proxies=frozenset({"127.0.0.1"}))
    with pytest.raises(ExchangeError):
        check_admin(trusted, "127.0.0.1", None, relayed={"x-forwarded-for": "203.0.113.9"})
    check_admin(trusted, "127.0.0.1", None, relayed={"x-forwarded-for": "127.0.0.1"})


def test_an_operator_api_open_beyond_loopback_without_a_token_gets_a_generated_one(
    tmp_path: Path,
) -> None:
    where = tmp_path / "admin-token"
    settings = Settings(admin_remote=True, admin_token_file=where)

    guarded = guard_operator_api(settings)

    assert guarded.admin_token is not None and len(guarded.admin_token) >= 32
    assert where.read_text().strip() == guarded.admin_token
    assert where.stat().st_mode & 0o777 == 0o600
    assert guard_operator_api(settings).admin_token != guarded.admin_token


def test_an_operator_api_open_beyond_loopback_with_the_well_known_token_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="STAMPEDE_ADMIN_TOKEN"):
        guard_operator_api(Settings(admin_remote=True, admin_token="stampede-local"))


def test_a_loopback_or_tokened_operator_api_starts_as_configured() -> None:
    for settings in (Settings(), Settings(admin_remote=True, admin_token="a" * 40)):
        assert guard_operator_api(settings) == settings
