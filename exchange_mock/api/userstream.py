"""User data stream keys (USER_STREAM: API key, no signature).

A listen key is derived from the account's secret rather than stored: POST returns the same key
every time (as Binance does while a key is live), any API worker or load generator can compute
it without a lookup, and the WebSocket side maps a key back to its account with
`listen_key_index`. The cost is that keys never expire: PUT only checks that the key is the
caller's, and DELETE ends the key's current connections' user data with `listenKeyExpired`.
Binance's 60-minute expiry would need a stored key with a TTL.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import APIRouter, Request, Response

from exchange_mock.accounts import AccountBook, ApiAccount
from exchange_mock.api import wire
from exchange_mock.api.auth import AccountCall, ApiKeyOnly
from exchange_mock.api.ws import close_listen_key
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.types import AccountId

router = APIRouter(tags=["user data streams"])

_LABEL = b"stampede:listenKey"


def listen_key(account: ApiAccount) -> str:
    """The account's listen key: 64 hex characters that reveal nothing of the secret."""
    return hmac.new(account.secret.encode(), _LABEL, hashlib.sha256).hexdigest()


def listen_key_index(accounts: AccountBook) -> dict[str, AccountId]:
    """Listen key → account, for the WebSocket side to resolve `?listenKey=`."""
    return {listen_key(account): account.id for account in accounts.accounts}


def _checked_key(call: AccountCall) -> str:
    """The caller's key; a key that is not theirs does not exist, as far as they can tell."""
    key = listen_key(call.account)
    sent = call.params.text("listenKey")
    if sent is not None and not hmac.compare_digest(sent.encode(), key.encode()):
        raise ExchangeError(Code.INVALID_LISTEN_KEY, "This listenKey does not exist.")
    return key


@router.post("/fapi/v1/listenKey", summary="Start a user data stream (USER_STREAM)")
async def start_user_stream(call: ApiKeyOnly) -> Response:
    return wire.json_response({"listenKey": listen_key(call.account)})


@router.put("/fapi/v1/listenKey", summary="Keep a user data stream alive (USER_STREAM)")
async def keepalive_user_stream(call: ApiKeyOnly) -> Response:
    return wire.json_response({"listenKey": _checked_key(call)})


@router.delete("/fapi/v1/listenKey", summary="Close a user data stream (USER_STREAM)")
async def close_user_stream(call: ApiKeyOnly, request: Request) -> Response:
    """The key's connections get `listenKeyExpired` and no more user data; since keys are
    derived, the next POST returns the same key, valid again for a new connection."""
    key = _checked_key(call)
    await close_listen_key(request.app, call.account.id, key)
    return wire.json_response({})
