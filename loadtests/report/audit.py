"""The conservation audit in a reader's words and units.

The exchange reports its audit with cash in the margin asset and collateral in its own asset
(decimal strings to the venue's precision) and positions in the contract's quantity, and says
which asset the cash is in. The report prints those as money and quantities, named for what
they are. An audit recorded by an older exchange, in its internal integers, is not shown
figure by figure: a reader cannot tell 3013093866257000000 from a balance, and scaling it here
would mean guessing the exchange's units.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pydantic import JsonValue

from loadtests.report.units import money, num
from loadtests.results import ConservationAudit

CASH = {
    "seeded": "cash seeded",
    "balances": "account balances",
    "entry_costs": "positions' entry cost",
    "fees": "fees collected",
    "insurance_fund": "insurance fund",
}
"""In the order the conservation sum reads: balances − entry cost + fees + fund = seeded."""
COLLATERAL = {
    "collateral_seeded": "collateral deposited",
    "collateral_held": "collateral held",
    "fund_collateral": "insurance fund's collateral",
}
INTERNAL_UNITS = (
    "audit figures: recorded in the exchange's internal units, which this report does not "
    "guess; the checks above are the exchange's own"
)


def audit_lines(audit: ConservationAudit) -> tuple[str, ...]:
    """One line per check, then per figure the exchange recorded, each in its unit."""
    checks = (
        f"audit: {'PASS' if audit.passed else 'FAIL'}",
        f"cash conserved: {_yes(audit.cash_conserved)}",
        f"positions balanced: {_yes(audit.positions_balanced)}",
        f"taken at a quiet point: {_yes(audit.quiet)}",
    )
    detail = audit.model_extra or {}
    asset = detail.get("asset")
    if not isinstance(asset, str):
        return (*checks, INTERNAL_UNITS) if _has_figures(detail) else checks
    figures = [
        f"{label}: {money(amount, asset)}"
        for name, label in CASH.items()
        if (amount := _decimal(detail.get(name))) is not None
    ]
    for name, label in COLLATERAL.items():
        figures += [
            f"{label}: {money(amount, held)}" for held, amount in _amounts(detail.get(name))
        ]
    figures += [
        f"net position {symbol}: {qty}" for symbol, qty in _amounts(detail.get("net_positions"))
    ]
    head, applied = detail.get("journal_head"), detail.get("projected_seq")
    if isinstance(head, int) and isinstance(applied, int):
        figures.append(f"journal events applied: {num(applied)} of {num(head)}")
    return (*checks, *figures)


def _yes(check: bool) -> str:
    return "yes" if check else "NO"


def _decimal(value: JsonValue) -> Decimal | None:
    """A decimal string as the exchange sends one; anything else is not an amount."""
    if not isinstance(value, str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _amounts(value: JsonValue) -> list[tuple[str, Decimal]]:
    if not isinstance(value, dict):
        return []
    return [
        (name, amount)
        for name, raw in sorted(value.items())
        if (amount := _decimal(raw)) is not None
    ]


def _has_figures(detail: dict[str, object]) -> bool:
    return any(name in detail for name in (*CASH, *COLLATERAL, "net_positions"))
