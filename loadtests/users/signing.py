"""Binance request signing, done the way a real client does it.

The signature is hex HMAC-SHA256 of the exact query string that goes on the wire, so the string
is built once, signed, and sent as is: re-encoding it after signing (another parameter order,
another percent-encoding) is how clients end up with -1022. A call's own parameters are
encoded once (`encode`), only the stamp and the signature change from one send to the next.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import urlencode

Param = tuple[str, str]

DEFAULT_RECV_WINDOW_MS = 10_000
"""What ccxt and python-binance send. The window runs from the client's stamp, so time spent
queueing in a loaded venue counts against it: a surge turns into -1021s past it."""


def encode(params: Iterable[Param]) -> str:
    return urlencode(list(params))


def signature(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def signed_query(
    query: str,
    secret: str,
    *,
    timestamp_ms: int,
    recv_window_ms: int = DEFAULT_RECV_WINDOW_MS,
) -> str:
    """An url-encoded `query`, then recvWindow and timestamp, with the signature of exactly
    that string appended as the last parameter."""
    stamp = f"recvWindow={recv_window_ms}&timestamp={timestamp_ms}"
    payload = f"{query}&{stamp}" if query else stamp
    return f"{payload}&signature={signature(secret, payload)}"
