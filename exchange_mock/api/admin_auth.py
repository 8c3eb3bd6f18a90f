"""Who may drive the operator API (`/stampede/admin/...`): loopback peers only unless the
settings open it up, and only with the token when one is set. It changes faults and prices, so
it is never reachable the way the Binance namespace is.

The same operator may read the Binance namespace outside the rate limits, by saying so
(`X-Stampede-Operator`): the harness's samplers read the market each second while the load they
watch is banned, and a sampler banned with it would stop measuring just when it matters. A
client that says so without being the operator is limited as any other."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Request

from exchange_mock.errors import Code, ExchangeError
from exchange_mock.settings import Settings

TOKEN_HEADER = "X-Stampede-Admin-Token"
OPERATOR_HEADER = "X-Stampede-Operator"


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def check_admin(settings: Settings, peer: str | None, token: str | None) -> None:
    if not settings.admin_remote and not _is_loopback(peer):
        raise ExchangeError(Code.REJECTED_MBX_KEY, "The operator API answers loopback only.", 403)
    expected = settings.admin_token
    if expected is not None and not hmac.compare_digest(expected, token or ""):
        raise ExchangeError(Code.REJECTED_MBX_KEY, "Missing or wrong operator token.", 401)


def is_operator(settings: Settings, peer: str | None, token: str | None) -> bool:
    """Whether a request from `peer` with `token` would pass `check_admin`."""
    try:
        check_admin(settings, peer, token)
    except ExchangeError:
        return False
    return True


async def require_admin(request: Request) -> None:
    """FastAPI dependency guarding every operator route."""
    settings: Settings = request.app.state.context.settings
    peer = request.client.host if request.client else None
    check_admin(settings, peer, request.headers.get(TOKEN_HEADER))
