"""Operator endpoints outside the Binance namespace (`/stampede/...`): the conservation audit
the harness runs after every load test."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Request

from exchange_mock.node import Node
from exchange_mock.store.audit import audit

router = APIRouter(prefix="/stampede", tags=["operator"])


@router.get("/audit", summary="Conservation audit: cash and positions, from the read model")
async def get_audit(request: Request) -> dict[str, object]:
    node: Node = request.app.state.node
    report = await audit(node.redis, node.keys, (a.id for a in node.accounts.accounts))
    return {
        **asdict(report),
        "quiet": report.quiet,
        "cash_conserved": report.cash_conserved,
        "positions_balanced": report.positions_balanced,
        "passed": report.passed,
    }
