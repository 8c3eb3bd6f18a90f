"""A minimal signed Binance client for the integration tests: what any real client sends."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import urlencode

import httpx

from exchange_mock.accounts import ApiAccount


class SignedClient:
    def __init__(self, http: httpx.AsyncClient, account: ApiAccount) -> None:
        self.http = http
        self.account = account

    async def send(self, method: str, path: str, **params: Any) -> httpx.Response:
        params.setdefault("timestamp", int(time.time() * 1000))
        query = urlencode({k: v for k, v in params.items() if v is not None})
        signature = hmac.new(self.account.secret.encode(), query.encode(), hashlib.sha256)
        return await self.http.request(
            method,
            f"{path}?{query}&signature={signature.hexdigest()}",
            headers={"X-MBX-APIKEY": self.account.api_key},
        )

    async def ok(self, method: str, path: str, **params: Any) -> Any:
        response = await self.send(method, path, **params)
        assert response.status_code == 200, response.text
        return response.json()
