"""Operator endpoints outside the Binance namespace (`/stampede/...`): the conservation audit
the harness runs after every load test, and under `/stampede/admin` (loopback only by default,
see `admin_auth.py`) the faults and the state of the pipeline:

- `GET /stampede/admin/status`: every fault in force, the orders queued in front of the engine,
  the journal's head and the projector's sequence (its lag in events and ms), the journal's
  length, the latest engine snapshot's age, Redis's memory and its limit, the requests in flight
  in the worker that answers, every process's vitals (roles, CPU, requests in flight and shed,
  Redis round trips: see `telemetry/vitals.py`) and the CPU Redis has used: one cheap snapshot
  of the whole exchange, which the harness samples each second;
- `PUT /stampede/admin/faults` with `{"kind": ..., "value": ...}`: set one fault (0 clears it);
- `DELETE /stampede/admin/faults`: clear every fault;
- `POST /stampede/admin/outage` with `{"kind": "redis_outage", "seconds": ...}`: Redis drops
  every client and refuses new ones for that long (`faults/redis_outage.py`); answered once it
  is in force. `{"kind": "redis_restart", "seconds": ...}`: the embedded Redis goes down for
  that long (0 by default) and starts again from its append-only file
  (`faults/redis_restart.py`); refused on a Redis the exchange did not start.
  `{"kind": "role_crash", "role": "engine" | "projector"}`: the process running the role is
  SIGKILLed and its supervisor starts it again (`faults/role_crash.py`); refused when this
  process runs the role too (one process: nothing would start it again), or when no process
  running it listens.

A fault change is in force in the process that answers it by the time the answer leaves; it
reaches the exchange's other processes within milliseconds (a Redis notice), and within
`faults.board.REFRESH_S` at worst.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from exchange_mock.api.admin_auth import require_admin
from exchange_mock.api.context import context_of, operator_of
from exchange_mock.api.middleware import Edge
from exchange_mock.errors import Code, ExchangeError
from exchange_mock.faults.board import Faults
from exchange_mock.faults.kinds import CRASHABLE_ROLES, FaultKind, OutageKind, check
from exchange_mock.faults.redis_outage import MAX_SECONDS, redis_outage
from exchange_mock.faults.redis_restart import RestartRefused, redis_restart
from exchange_mock.faults.role_crash import order_crash
from exchange_mock.formats import MARGIN_ASSET, cash_str
from exchange_mock.settings import Role
from exchange_mock.store.audit import AuditReport, audit
from exchange_mock.store.backlog import backlog
from exchange_mock.store.footprint import footprint
from exchange_mock.symbols import SymbolTable
from exchange_mock.telemetry.vitals import read_vitals

CASH_FIELDS = ("seeded", "balances", "entry_costs", "fees", "insurance_fund")
COLLATERAL_FIELDS = ("collateral_seeded", "collateral_held", "fund_collateral")

router = APIRouter(prefix="/stampede", tags=["operator"])
operator = APIRouter(prefix="/admin", dependencies=[Depends(require_admin)])


class OutageRequest(BaseModel):
    kind: str
    seconds: float = 0.0
    """How long Redis stays away (redis_outage, redis_restart)."""
    role: str | None = None
    """The role whose process crashes (role_crash)."""


class FaultChange(BaseModel):
    kind: str
    value: float


@router.get("/audit", summary="Conservation audit: cash and positions, from the read model")
async def get_audit(request: Request) -> dict[str, object]:
    ops = operator_of(request)
    accounts = context_of(request).accounts.accounts
    report = await audit(ops.redis, ops.keys, (a.id for a in accounts))
    return {
        **_in_units(report, context_of(request).symbols),
        "quiet": report.quiet,
        "cash_conserved": report.cash_conserved,
        "positions_balanced": report.positions_balanced,
        "passed": report.passed,
    }


def _in_units(report: AuditReport, symbols: SymbolTable) -> dict[str, object]:
    """The audit's figures as a reader states them: cash in the margin asset and collateral in
    its own asset, both as 8-place decimal strings, positions as quantities in the symbol's
    step. The integers behind them are the engine's units, which no reader should have to
    scale; the report prints what arrives here."""

    def quantity(symbol: str, lots: int) -> str:
        spec = symbols.get(symbol)
        return spec.qty_str(lots) if spec is not None else str(lots)

    return {
        "asset": MARGIN_ASSET,
        **{name: cash_str(getattr(report, name)) for name in CASH_FIELDS},
        "net_positions": {s: quantity(s, lots) for s, lots in report.net_positions.items()},
        **{
            name: {asset: cash_str(amount) for asset, amount in getattr(report, name).items()}
            for name in COLLATERAL_FIELDS
        },
        "projected_seq": report.projected_seq,
        "journal_head": report.journal_head,
    }


@operator.get("/status", summary="Faults in force, pipeline backlog, requests in flight")
async def get_status(request: Request) -> dict[str, object]:
    ops = operator_of(request)
    edge: Edge = request.app.state.edge
    faults = await ops.fault_board.load()
    context = context_of(request)
    now_ms = context.clock()
    behind = await backlog(ops.control, ops.keys, now_ms)
    store = await footprint(ops.control, ops.keys, now_ms)
    vitals = await read_vitals(ops.control, ops.keys, now_ms, context.settings.vitals_interval_ms)
    redis_cpu = await ops.control.info("cpu")
    return {
        "at_ms": now_ms,
        "faults": faults,
        "journal_length": store.journal_length,
        "snapshot_age_ms": store.snapshot_age_ms,
        "redis_memory": {
            "used_bytes": store.redis_used_bytes,
            "maxmemory_bytes": store.redis_maxmemory_bytes,
        },
        "orders_queued": behind.orders_queued,
        "journal_head": behind.journal_head,
        "projected_seq": behind.projected_seq,
        "projector_lag_events": behind.projector_lag_events,
        "projector_lag_ms": behind.projector_lag_ms,
        "api_worker": {
            "id": context.bus.worker,
            "in_flight": edge.in_flight,
            "capacity": edge.capacity,
        },
        "processes": [asdict(process) for process in vitals],
        "redis_cpu_s": float(redis_cpu["used_cpu_sys"]) + float(redis_cpu["used_cpu_user"]),
    }


@operator.put("/faults", summary="Set one fault; a value of 0 clears it")
async def put_fault(change: FaultChange, request: Request) -> dict[str, Faults]:
    try:
        kind = FaultKind(change.kind)
    except ValueError:
        known = ", ".join(kind.value for kind in FaultKind)
        raise ExchangeError(
            Code.INVALID_PARAMETER, f"Unknown fault kind {change.kind!r}; known: {known}."
        ) from None
    try:
        check(kind, change.value)
    except ValueError as exc:
        raise ExchangeError(Code.INVALID_PARAMETER, f"{exc}.") from None
    ops = operator_of(request)
    await ops.fault_board.set(kind, change.value)
    await ops.faults.refresh()
    return {"faults": await ops.fault_board.load()}


@operator.delete("/faults", summary="Clear every fault")
async def clear_faults(request: Request) -> dict[str, Faults]:
    ops = operator_of(request)
    await ops.fault_board.replace({})
    await ops.faults.refresh()
    return {"faults": {}}


@operator.post("/outage", summary="Rehearse an outage: redis_outage, redis_restart, role_crash")
async def post_outage(outage: OutageRequest, request: Request) -> dict[str, object]:
    try:
        kind = OutageKind(outage.kind)
    except ValueError:
        known = ", ".join(kind.value for kind in OutageKind)
        raise ExchangeError(
            Code.INVALID_PARAMETER, f"Unknown outage kind {outage.kind!r}; known: {known}."
        ) from None
    if kind is OutageKind.ROLE_CRASH:
        return await _crash_role(outage.role, request)
    restart = kind is OutageKind.REDIS_RESTART
    if not 0 <= outage.seconds <= MAX_SECONDS or (outage.seconds == 0 and not restart):
        more = "at least 0" if restart else "more than 0"
        raise ExchangeError(
            Code.INVALID_PARAMETER, f"A {kind} lasts {more} and at most {MAX_SECONDS:g} s."
        )
    if kind is OutageKind.REDIS_RESTART:
        await _restart_redis(outage.seconds, request)
    else:
        await _hold_redis_outage(outage.seconds, request)
    return {"kind": kind.value, "seconds": outage.seconds}


async def _hold_redis_outage(seconds: float, request: Request) -> None:
    begun = asyncio.Event()
    held = asyncio.create_task(redis_outage(operator_of(request).control, seconds, begun))
    # Held by the app until it ends: the event loop keeps only weak references to tasks.
    outages: set[asyncio.Task[None]] = request.app.state.outages
    outages.add(held)
    held.add_done_callback(outages.discard)
    # Answered once the outage is in force, so a caller's clock starts with it; a failure to
    # start it (Redis already unreachable) is answered as any Redis failure is.
    waiting = asyncio.create_task(begun.wait())
    await asyncio.wait({held, waiting}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if held.done():
        held.result()


async def _restart_redis(seconds: float, request: Request) -> None:
    if not context_of(request).settings.redis_embedded:
        raise ExchangeError(
            Code.UNSUPPORTED_OPERATION,
            "redis_restart restarts only an embedded Redis started for the exchange; this one "
            "was given its Redis (REDIS_URL), which is not the exchange's to restart.",
        )
    try:
        await redis_restart(operator_of(request).control, seconds)
    except RestartRefused as refused:
        raise ExchangeError(
            Code.UNSUPPORTED_OPERATION, f"Redis refused to restart: {refused}."
        ) from None


async def _crash_role(role: str | None, request: Request) -> dict[str, object]:
    if role not in CRASHABLE_ROLES:
        known = ", ".join(sorted(CRASHABLE_ROLES))
        raise ExchangeError(
            Code.INVALID_PARAMETER, f"role_crash needs a role to crash, one of: {known}."
        )
    if Role(role) in context_of(request).settings.roles:
        raise ExchangeError(
            Code.UNSUPPORTED_OPERATION,
            f"role_crash: the {role} runs in the process that serves the API, which nothing "
            "would start again; run the roles in a process of their own (--workers 2 or more) "
            "to rehearse a crash.",
        )
    ops = operator_of(request)
    if not await order_crash(ops.control, ops.keys, role):
        raise ExchangeError(
            Code.UNSUPPORTED_OPERATION,
            f"role_crash: no process running the {role} listens for the order (it may be "
            "starting again after a crash); try again shortly.",
        )
    return {"kind": OutageKind.ROLE_CRASH.value, "role": role}


router.include_router(operator)
