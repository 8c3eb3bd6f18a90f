"""Who a request comes from, for the per-IP rate limits and bans.

The client is the socket peer, unless the peer is a trusted proxy: then it is the first address
in `X-Forwarded-For`. That lets one load generator, behind a trusted proxy or trusted itself,
act as many client IPs with limits of their own; any other peer's header is ignored, so a client
cannot shed its limits or its ban by naming a new address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Container

UNKNOWN_PEER = "unknown"
"""The identity of a request whose transport reports no peer; all such requests share it."""


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: Container[str]) -> str:
    """The client address of a request from `peer` carrying `X-Forwarded-For: forwarded_for`
    (several such headers joined with commas, as HTTP allows)."""
    if peer is None:
        return UNKNOWN_PEER
    if forwarded_for is None or peer not in trusted_proxies:
        return peer
    first = forwarded_for.split(",", 1)[0].strip()
    try:
        # Normalised, so one client spelled two ways is still one client.
        return ipaddress.ip_address(first).compressed
    except ValueError:
        return peer
