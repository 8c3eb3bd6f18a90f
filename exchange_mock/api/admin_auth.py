"""Who may drive the operator API (`/stampede/admin/...`): loopback clients only unless the
settings open it up, and only with the token when one is set. The client is resolved as the
rate limits resolve it (`client_ip`), and a request relayed by a proxy that is not trusted is
not loopback, so a reverse proxy on the same host does not open the operator API. It changes
faults and prices, so it is never reachable the way the Binance namespace is.

The same operator may read the Binance namespace outside the rate limits, by saying so
(`X-Stampede-Operator`): the harness's samplers read the market each second while the load they
watch is banned, and a sampler banned with it would stop measuring just when it matters. A
client that says so without being the operator is limited as any other."""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
from collections.abc import Mapping

from fastapi import Request

from exchange_mock.api.client_ip import client_ip, is_trusted
from exchange_mock.errors import Code, ConfigError, ExchangeError
from exchange_mock.settings import Settings

log = logging.getLogger(__name__)

TOKEN_HEADER = "X-Stampede-Admin-Token"
OPERATOR_HEADER = "X-Stampede-Operator"
WELL_KNOWN_TOKENS = frozenset({"stampede-local", "changeme", "admin"})
"""Tokens that were once defaults or examples: as good as none beyond loopback."""


def guard_operator_api(settings: Settings) -> Settings:
    """The settings an API process may start with: an operator API open beyond loopback needs
    a token of its own, so with none one is generated (and written where the operator can read
    it), and a well-known one refuses to start."""
    if not settings.admin_remote:
        return settings
    if settings.admin_token in WELL_KNOWN_TOKENS:
        raise ConfigError(
            "the operator API is open beyond loopback with a well-known token: set "
            "STAMPEDE_ADMIN_TOKEN to a secret of your own (or leave it unset to have one made)"
        )
    if settings.admin_token is not None:
        return settings
    token = secrets.token_urlsafe(32)
    path = settings.admin_token_file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    path.chmod(0o600)
    log.warning("operator API open beyond loopback: its token was generated, in %s", path.resolve())
    return settings.model_copy(update={"admin_token": token})


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


RELAY_HEADERS = ("x-forwarded-for", "forwarded", "x-real-ip")
"""Headers a proxy adds for the client it relays."""


def operator_client(settings: Settings, peer: str | None, relayed: Mapping[str, str]) -> str | None:
    """The address the operator guard judges: the client a trusted proxy names, or the peer;
    None for a request an untrusted proxy relays (it carries a relay header), since a reverse
    proxy on this host is a loopback peer whoever it speaks for."""
    forwarded = relayed.get("x-forwarded-for")
    if peer is not None and is_trusted(peer, settings.trusted_proxies):
        return client_ip(peer, forwarded, settings.trusted_proxies)
    if any(relayed.get(header) for header in RELAY_HEADERS):
        return None
    return peer


def check_admin(
    settings: Settings,
    peer: str | None,
    token: str | None,
    relayed: Mapping[str, str] | None = None,
) -> None:
    client = operator_client(settings, peer, relayed or {})
    if not settings.admin_remote and not _is_loopback(client):
        raise ExchangeError(Code.REJECTED_MBX_KEY, "The operator API answers loopback only.", 403)
    expected = settings.admin_token
    if expected is not None and not hmac.compare_digest(expected, token or ""):
        raise ExchangeError(Code.REJECTED_MBX_KEY, "Missing or wrong operator token.", 401)


def is_operator(
    settings: Settings, peer: str | None, token: str | None, relayed: Mapping[str, str]
) -> bool:
    """Whether a request from `peer` with `token`, relayed as `relayed` says, would pass
    `check_admin`."""
    try:
        check_admin(settings, peer, token, relayed)
    except ExchangeError:
        return False
    return True


async def require_admin(request: Request) -> None:
    """FastAPI dependency guarding every operator route."""
    settings: Settings = request.app.state.context.settings
    peer = request.client.host if request.client else None
    headers = request.headers
    relayed = {name: ",".join(headers.getlist(name)) for name in RELAY_HEADERS if name in headers}
    check_admin(settings, peer, headers.get(TOKEN_HEADER), relayed)
