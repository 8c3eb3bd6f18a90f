"""Who a request comes from, for the per-IP rate limits and bans.

The client is the socket peer, unless the peer is a trusted proxy: then it is the first address
in `X-Forwarded-For`. That lets one load generator, behind a trusted proxy or trusted itself,
act as many client IPs with limits of their own; any other peer's header is ignored, so a client
cannot shed its limits or its ban by naming a new address. A trusted entry is an address or a
network: load generators that scale out in containers get their addresses from a range, not
one by one.
"""

from __future__ import annotations

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN_PEER = "unknown"
"""The identity of a request whose transport reports no peer; all such requests share it."""


def client_ip(peer: str | None, forwarded_for: str | None, trusted_proxies: frozenset[str]) -> str:
    """The client address of a request from `peer` carrying `X-Forwarded-For: forwarded_for`
    (several such headers joined with commas, as HTTP allows)."""
    if peer is None:
        return UNKNOWN_PEER
    if forwarded_for is None or not is_trusted(peer, trusted_proxies):
        return peer
    first = forwarded_for.split(",", 1)[0].strip()
    try:
        # Normalised, so one client spelled two ways is still one client.
        return ipaddress.ip_address(first).compressed
    except ValueError:
        return peer


def is_trusted(peer: str, trusted_proxies: frozenset[str]) -> bool:
    """Whether `peer` is one of the trusted addresses or inside one of the trusted networks."""
    return peer in trusted_proxies or _inside(peer, trusted_proxies)


@functools.cache
def _networks(trusted_proxies: frozenset[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(e, strict=False) for e in trusted_proxies if "/" in e)


@functools.lru_cache(maxsize=4096)
def _inside(peer: str, trusted_proxies: frozenset[str]) -> bool:
    """Cached per peer (a connection's requests all ask; bounded, since peers are anyone),
    keyed by the trusted set itself, whose hash Python keeps."""
    networks = _networks(trusted_proxies)
    if not networks:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)
