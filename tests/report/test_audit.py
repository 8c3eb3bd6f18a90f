from __future__ import annotations

from loadtests.report.audit import INTERNAL_UNITS, audit_lines
from loadtests.report.schema import Report
from loadtests.results import ConservationAudit

CHECKS = {"passed": True, "quiet": True, "cash_conserved": True, "positions_balanced": True}


def test_the_audit_reads_in_money_and_quantities_named_for_what_they_are(
    one_worker: Report,
) -> None:
    assert one_worker.audit is not None

    lines = audit_lines(one_worker.audit)

    assert lines[:4] == (
        "audit: PASS",
        "cash conserved: yes",
        "positions balanced: yes",
        "taken at a quiet point: yes",
    )
    assert "cash seeded: 30,130,938,662.57000000 USDT" in lines
    assert "insurance fund: 296,362.45665557 USDT" in lines
    assert "positions' entry cost: 0.00000000 USDT" in lines
    assert "collateral deposited: 1,000.00000000 BNFCR" in lines
    assert "net position BTCUSDT: 0.000" in lines
    assert "journal events applied: 5,321 of 5,321" in lines


def test_an_audit_in_the_exchange_internal_integers_is_not_printed_figure_by_figure() -> None:
    # As an exchange before units reported it: cash in 1e-8 units, as bare integers.
    audit = ConservationAudit.model_validate(
        {**CHECKS, "seeded": 3013093866257000000, "insurance_fund": 29636245665557}
    )

    lines = audit_lines(audit)

    assert lines[-1] == INTERNAL_UNITS
    assert not any("3013093866257000000" in line or "29636245665557" in line for line in lines)


def test_an_audit_with_only_its_checks_lists_the_checks() -> None:
    lines = audit_lines(
        ConservationAudit.model_validate({**CHECKS, "passed": False, "quiet": False})
    )

    assert lines == (
        "audit: FAIL",
        "cash conserved: yes",
        "positions balanced: yes",
        "taken at a quiet point: NO",
    )
