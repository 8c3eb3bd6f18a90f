"""Liquidation through the whole pipeline: a leveraged account, its liquidation price in
positionRisk, an operator shock through the admin API, the engine liquidating on the oracle's
next marks, the truth counter and the insurance fund in the read model, and the audit still
passing. The operator endpoints' validation comes first, since the shock changes the market
for the rest of the module."""

from __future__ import annotations

import asyncio
import re
from decimal import Decimal
from typing import Any

import httpx

from exchange_mock.accounts import AccountBook
from tests.integration.signed import SignedClient


async def until(check: Any, timeout_s: float = 20.0) -> Any:
    """Poll the coroutine function `check` until it returns something truthy."""
    async with asyncio.timeout(timeout_s):
        while not (result := await check()):
            await asyncio.sleep(0.1)
    return result


async def test_the_operator_endpoints_refuse_what_they_cannot_do(http: httpx.AsyncClient) -> None:
    async def refused(method: str, path: str, body: dict[str, Any]) -> tuple[int, int]:
        response = await http.request(method, path, json=body)
        return response.status_code, response.json()["code"]

    shock = "/stampede/admin/shock"
    assert await refused("POST", shock, {"symbol": "BTCUSDT", "pct": -1, "notional": "5"}) == (
        400,
        -1102,
    )
    assert await refused("POST", shock, {"symbol": "DOGEUSDT", "pct": -1}) == (400, -1121)
    assert await refused("POST", shock, {"symbol": "BTCUSDT", "pct": -1, "venue": "x"}) == (
        400,
        -1130,
    )
    assert (await refused("PUT", "/stampede/admin/depth", {"pct": 101}))[0] == 400
    oracle = "/stampede/admin/oracle"
    assert (await refused("PUT", oracle, {"mode": "median"}))[0] == 400
    assert await refused("PUT", oracle, {"mode": "spot", "asset": "DOGE"}) == (400, -1130)
    both = {"mode": "spot", "symbol": "BTCUSDT", "asset": "USDE"}
    assert await refused("PUT", oracle, both) == (400, -1128)


async def test_the_knobs_are_taken(http: httpx.AsyncClient) -> None:
    for method, path, body in (
        ("PUT", "/stampede/admin/depth", {"pct": 0}),
        ("PUT", "/stampede/admin/oracle", {"mode": "spot", "asset": "USDE"}),
        ("PUT", "/stampede/admin/oracle", {"mode": "index"}),
        ("POST", "/stampede/admin/shock", {"symbol": "USDEUSDT", "notional": "-100000"}),
        ("POST", "/stampede/admin/shock", {"symbol": "ETHUSDT", "pct": 0.5, "venue": "gate"}),
    ):
        response = await http.request(method, path, json=body)
        assert response.status_code == 200, response.text


async def test_a_notional_shock_sells_on_the_exchanges_own_book(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/stampede/admin/shock", json={"symbol": "ETHUSDT", "notional": "-50000"}
    )
    assert response.status_code == 200, response.text
    sold = response.json()
    assert sold["side"] == "SELL" and Decimal(sold["executedQty"]) > 0
    assert Decimal(sold["cumQuote"]) <= 50_000


async def test_a_market_move_liquidates_a_leveraged_long_and_the_truth_counts_it(
    http: httpx.AsyncClient, accounts: AccountBook
) -> None:
    trader = SignedClient(http, accounts.traders[0])
    bought = await trader.ok(
        "POST", "/fapi/v1/order", symbol="BTCUSDT", side="BUY", type="MARKET", quantity="17"
    )
    assert Decimal(bought["executedQty"]) > 10, bought

    async def position() -> dict[str, Any] | None:
        rows = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
        return rows[0] if rows and Decimal(rows[0]["positionAmt"]) > 0 else None

    held = await until(position)
    entry, liquidation = Decimal(held["entryPrice"]), Decimal(held["liquidationPrice"])
    assert 0 < liquidation < entry, held  # about 5% under the entry at this leverage
    before = (await http.get("/stampede/liquidations")).json()["total"]["count"]

    shocked = await http.post("/stampede/admin/shock", json={"symbol": "BTCUSDT", "pct": -9})
    assert shocked.status_code == 200, shocked.text

    async def liquidated() -> dict[str, Any] | None:
        truth = (await http.get("/stampede/liquidations")).json()
        return truth if truth["total"]["count"] > before else None

    truth = await until(liquidated)
    assert truth["symbols"]["BTCUSDT"]["count"] >= 1
    assert Decimal(truth["symbols"]["BTCUSDT"]["notional"]) > 0

    async def flat() -> bool:
        rows = await trader.ok("GET", "/fapi/v3/positionRisk", symbol="BTCUSDT")
        return not rows

    await until(flat)
    # The venue's own record of it, as a client checks a position it did not close itself.
    forced = await trader.ok("GET", "/fapi/v1/forceOrders", symbol="BTCUSDT")
    assert forced and all(o["clientOrderId"].startswith("autoclose-") for o in forced), forced
    assert {(o["side"], o["timeInForce"]) for o in forced} == {("SELL", "IOC")}
    assert await trader.ok("GET", "/fapi/v1/forceOrders", autoCloseType="ADL") == []
    mark = (await http.get("/fapi/v1/premiumIndex", params={"symbol": "BTCUSDT"})).json()
    assert Decimal(mark["markPrice"]) < entry

    async def quiet_audit() -> dict[str, Any] | None:
        report = (await http.get("/stampede/audit")).json()
        return report if report["quiet"] else None

    report = await until(quiet_audit)
    assert report["passed"], report
    assert Decimal(report["insurance_fund"]) > 0
    # The audit speaks in the margin asset to its eight places and in contracts, never in the
    # engine's integers, so a report can print it as it arrives.
    assert report["asset"] == "USDT"
    assert re.fullmatch(r"\d+\.\d{8}", report["seeded"])
    assert report["net_positions"]["BTCUSDT"] == "0.000"
