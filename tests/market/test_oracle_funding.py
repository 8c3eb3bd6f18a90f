"""The oracle's funding schedule: when an interval ends, each symbol's mark is followed by the
funding to charge for it, at the rate the interval's premium came to; the interval's length is
configurable (a run compressing time settles more often)."""

from __future__ import annotations

import random

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import Command, SettleFunding, UpdateMarkPrice
from exchange_mock.market.oracle import Oracle, OwnBook
from exchange_mock.market.venues import VenueTable
from exchange_mock.symbols import SymbolTable

MINUTE = 60_000
BOUNDARY = 1_760_000_040_000
"""A whole minute since the epoch."""
T0 = BOUNDARY - 30_000
PREMIUM = {
    "BTCUSDT": OwnBook(1_226_000, 1_226_010, 1_226_000),
    "ETHUSDT": OwnBook(None, None, None),
}
"""BTC's own book about 0.08% over its index: a rate beyond the interest rate's."""


def oracle() -> Oracle:
    return Oracle(
        SymbolTable.load(),
        VenueTable.load(),
        CollateralTable.load(),
        random.Random(3),
        T0,
        funding_interval_ms=MINUTE,
    )


def observe(engine_oracle: Oracle, second: int) -> list[Command]:
    now = T0 + second * 1_000
    engine_oracle.step(now)
    return engine_oracle.observe(now, PREMIUM)


def test_the_end_of_an_interval_settles_each_symbol_after_its_mark() -> None:
    agent = oracle()
    before = [observe(agent, second) for second in range(1, 30)]
    assert not any(isinstance(c, SettleFunding) for cs in before for c in cs)
    last_rates = {c.symbol: c.funding_rate for c in before[-1] if isinstance(c, UpdateMarkPrice)}
    crossing = observe(agent, 30)
    kinds = [(type(c).__name__, getattr(c, "symbol", None)) for c in crossing[:4]]
    assert kinds == [
        ("UpdateMarkPrice", "BTCUSDT"),
        ("SettleFunding", "BTCUSDT"),
        ("UpdateMarkPrice", "ETHUSDT"),
        ("SettleFunding", "ETHUSDT"),
    ]
    settled = {c.symbol: c for c in crossing if isinstance(c, SettleFunding)}
    assert {c.funding_time for c in settled.values()} == {BOUNDARY}
    # The rate the interval's samples came to: what the last mark before the end carried.
    assert {symbol: c.rate for symbol, c in settled.items()} == last_rates
    # BTC's premium beyond the clamp adds to the interest rate; ETH, with no book, has none.
    assert last_rates["BTCUSDT"] > 10_000
    assert last_rates["ETHUSDT"] == 10_000
    after = [observe(agent, second) for second in range(31, 60)]
    assert not any(isinstance(c, SettleFunding) for cs in after for c in cs), "once"
    assert any(isinstance(c, SettleFunding) for c in observe(agent, 90))


def test_marks_do_not_settle_an_interval_before_the_oracle_has_seen_one_begin() -> None:
    """A restarted agent charges the interval in progress at its end, not the one before."""
    agent = oracle()
    first = observe(agent, 31)
    assert not any(isinstance(c, SettleFunding) for c in first)


def test_a_dated_contract_is_marked_on_its_pairs_index_and_pays_no_funding() -> None:
    table = SymbolTable.load()
    listed = table.listed(table.deliveries(T0))
    dated = [s.symbol for s in listed.symbols if not s.funds]
    agent = Oracle(
        listed,
        VenueTable.load(),
        CollateralTable.load(),
        random.Random(3),
        T0,
        funding_interval_ms=MINUTE,
    )
    books = {**PREMIUM, **dict.fromkeys(dated, PREMIUM["BTCUSDT"])}

    commands = []
    for second in range(1, 31):
        agent.step(T0 + second * 1_000)
        commands += agent.observe(T0 + second * 1_000, books)

    settled = {c.symbol for c in commands if isinstance(c, SettleFunding)}
    assert settled == {"BTCUSDT", "ETHUSDT"}
    last = {c.symbol: c for c in commands if isinstance(c, UpdateMarkPrice)}
    assert dated and all(last[symbol].funding_rate == 0 for symbol in dated)
    assert {last[symbol].index for symbol in dated} == {last["BTCUSDT"].index}
    assert last["BTCUSDT"].funding_rate > 10_000
