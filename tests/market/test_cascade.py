"""The feedback loop is real: from the same seeded book and positions, the same dump liquidates
far more notional when marks and collateral are priced from the exchange's own book (`spot`,
the design in force until October 14, 2025) than from a capped multi-venue index (`index`).

One crowd of 1,500 leveraged BTC accounts (87% long, 30% margined with the synthetic stable
only, positions opened up to 4.5% against them), two market makers quoting square-root depth
that widens and thins with volatility, and the engine liquidating on every mark. The dump
comes after 30 s of calm; what is liquidated over the next two minutes is compared with what
was dumped. October 2025 for scale: a ~$60M dump, ~$19.3bn liquidated (~322x).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import pytest

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import UpdateCollateralPrice, UpdateMarkPrice
from exchange_mock.engine import Engine
from exchange_mock.market.oracle import OracleMode
from exchange_mock.market.quoting import QuotePolicy
from exchange_mock.market.venues import VenueTable
from exchange_mock.risk import PRICE_SCALE
from exchange_mock.settings import Crowd
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import CASH_SCALE
from tests.market.simulation import Simulation

SYMBOLS, VENUES, COLLATERAL = SymbolTable.load(), VenueTable.load(), CollateralTable.load()
POLICY = QuotePolicy(levels=20, spread_bps=2, step_bps=25, notional=500, calm_bps=2)
"""About 2.5M of bids within 1% of the price in calm markets, 62M within 5%."""
CROWD = Crowd(median_notional=50_000)
DUMPS = {"BTCUSDT": 5_000_000.0, "USDEUSDT": 20_000_000.0}
"""Sold at market on the exchange's own BTC book, or on its own thin USDE book (−20%)."""
CALM_S, AFTER_S = 30, 120


@dataclass(frozen=True)
class Cascade:
    dumped: float
    liquidated: float
    lowest_mark: float
    simulation: Simulation

    @property
    def amplification(self) -> float:
        return self.liquidated / self.dumped


@cache
def cascade(target: str, mode: OracleMode) -> Cascade:
    """One run (shared by the tests that look at it)."""
    sim = Simulation(SYMBOLS, VENUES, COLLATERAL, POLICY, seed=3, mode=mode)
    sim.open_crowd(CROWD, "BTCUSDT")
    sim.run(CALM_S)
    before = sim.liquidated()
    notional = DUMPS[target]
    if target == "BTCUSDT":
        dumped = sim.dump(target, notional) / CASH_SCALE
    else:
        sim.dump_venue(target, notional)
        dumped = notional
    lowest = sim.oracle.marks["BTCUSDT"]
    for _ in range(AFTER_S):
        sim.step()
        lowest = min(lowest, sim.oracle.marks["BTCUSDT"])
    return Cascade(dumped, (sim.liquidated() - before) / CASH_SCALE, lowest, sim)


@pytest.mark.parametrize("target", list(DUMPS))
def test_the_same_dump_liquidates_far_more_with_spot_marks_than_with_the_index(
    target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spot, index = cascade(target, OracleMode.SPOT), cascade(target, OracleMode.INDEX)
    with capsys.disabled():
        for mode, run in (("spot", spot), ("index", index)):
            print(
                f"\n  {target} dump {run.dumped:,.0f} ({mode}): liquidated {run.liquidated:,.0f}"
                f" = {run.amplification:.1f}x the dump; BTC mark low {run.lowest_mark:,.0f}"
            )
    assert spot.amplification > 1  # the loop amplifies the dump...
    assert spot.liquidated > 10 * index.liquidated  # ...and the index design does not
    assert index.amplification < 0.1
    for run in (spot, index):
        audit = run.simulation.engine.audit()
        assert audit.balanced, audit  # cash, fund, fees, positions and collateral, after it all
    # Makers' quotes outside the price band are all that was refused.
    assert {reply.code for reply in spot.simulation.rejected} <= {-4016, -4024}


def test_index_marks_still_follow_a_real_market_move() -> None:
    """What the index ignores is one book's dump, not the market: every venue down 8% brings
    the index mark down with it, and the crowd's thin margins with it."""
    sim = Simulation(SYMBOLS, VENUES, COLLATERAL, POLICY, seed=3, mode=OracleMode.INDEX)
    sim.open_crowd(CROWD, "BTCUSDT")
    sim.run(CALM_S)
    sim.oracle.venues["BTCUSDT"].move(-8.0, everywhere=True)
    sim.run(60)
    assert sim.oracle.marks["BTCUSDT"] < 0.93 * float(SYMBOLS.by_name["BTCUSDT"].reference_price)
    assert sim.liquidated() > 5_000_000 * CASH_SCALE
    assert sim.engine.audit().balanced


def test_a_cascade_replays_to_the_same_state() -> None:
    """Hundreds of liquidations, auto-deleveragings and collateral conversions, replayed from
    their events into a fresh engine, rebuild it exactly; both then liquidate the same way."""
    run = cascade("USDEUSDT", OracleMode.SPOT)
    original = run.simulation.engine
    stats = original.liquidations()["BTCUSDT"]
    assert stats.count > 100 and stats.deleveraged > 10
    restored = Engine(SYMBOLS, 20, COLLATERAL.assets)
    for event in run.simulation.journal:
        restored.replay(event)
    assert restored.state() == original.state()
    mark = original.top("BTCUSDT")[2] or 1
    ts = run.simulation.now + 1
    for command in (
        UpdateMarkPrice("BTCUSDT", mark * 8 // 10, ts),
        UpdateCollateralPrice("USDE", PRICE_SCALE // 2, ts),
        UpdateMarkPrice("BTCUSDT", mark * 13 // 10, ts),
    ):
        assert restored.handle(command) == original.handle(command)
    assert restored.state() == original.state()
