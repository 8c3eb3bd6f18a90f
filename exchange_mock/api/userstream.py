"""User data stream keys (USER_STREAM: API key, no signature).

A listen key is derived from the account's secret, so POST returns the same key every time (as
Binance does while a key is live) and the WebSocket side maps a key back to its account with
`listen_key_index`. Whether a key is live is stored (`store.listenkeys`): POST starts it for
`listen_key_ttl_s` (Binance: 60 minutes), PUT extends a live key and refuses any other with
-1125, and DELETE revokes it, ending its connections' user data with `listenKeyExpired`, until
the next POST. A key left without a keepalive expires the same way (see `ws`).
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
        raise _no_such_key()
    return key


def _no_such_key() -> ExchangeError:
    return ExchangeError(Code.INVALID_LISTEN_KEY, "This listenKey does not exist.")


@router.post("/fapi/v1/listenKey", summary="Start a user data stream (USER_STREAM)")
async def start_user_stream(call: ApiKeyOnly) -> Response:
    key = listen_key(call.account)
    await call.ctx.listen_keys.start(key, call.account.id)
    return wire.json_response({"listenKey": key})


@router.put("/fapi/v1/listenKey", summary="Keep a user data stream alive (USER_STREAM)")
async def keepalive_user_stream(call: ApiKeyOnly) -> Response:
    key = _checked_key(call)
    if not await call.ctx.listen_keys.keep_alive(key):
        raise _no_such_key()
    return wire.json_response({"listenKey": key})


@router.delete("/fapi/v1/listenKey", summary="Close a user data stream (USER_STREAM)")
async def close_user_stream(call: ApiKeyOnly, request: Request) -> Response:
    """The key's connections get `listenKeyExpired` and no more user data; since keys are
    derived, the next POST returns the same key, live again for a new connection."""
    key = _checked_key(call)
    await call.ctx.listen_keys.close(key)
    await close_listen_key(request.app, call.account.id, key)
    return wire.json_response({})
