"""The exchange's feedback loop in one process on a simulated clock, for the tests: the pure
engine, the oracle and the market makers, stepped a second at a time, with a crowd of leveraged
accounts to liquidate and shocks to start it.

This is the live pipeline minus the I/O: the same engine, the same oracle and the same quoting
code the live agents run, fed in the same order (oracle marks, then requotes, each second). It
answers "how much does this dump liquidate in this oracle mode" in well under a second, which
is what the cascade tests and the scenario figures need.
"""

from __future__ import annotations

import random

from exchange_mock.collateral import CollateralTable
from exchange_mock.domain.commands import (
    CancelAllOrders,
    Command,
    FundAccount,
    PlaceOrder,
    SeedInsuranceFund,
    SetLeverage,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import Event, TradeExecuted
from exchange_mock.domain.replies import Done, Rejected, Reply
from exchange_mock.engine import Engine
from exchange_mock.errors import ConfigError
from exchange_mock.market.crowd import open_crowd, to_cash_f
from exchange_mock.market.oracle import Oracle, OracleMode, OwnBook
from exchange_mock.market.quoting import QuotePolicy, Quoter
from exchange_mock.market.venues import VenueTable
from exchange_mock.settings import Crowd
from exchange_mock.symbols import SymbolSpec, SymbolTable
from exchange_mock.types import AccountId, Cash, Millis, OrderType, Side, TimeInForce

STEP_MS = 1_000
START_MS = 1_760_000_000_000
"""October 9, 2025: any whole second works; a fixed one keeps runs identical."""


class Simulation:
    def __init__(
        self,
        symbols: SymbolTable,
        venues: VenueTable,
        collateral: CollateralTable,
        policy: QuotePolicy,
        *,
        seed: int,
        makers: int = 2,
        maker_balance: float = 200_000_000.0,
        maker_leverage: int = 5,
        insurance_fund: float = 2_000_000.0,
        mode: OracleMode = OracleMode.INDEX,
    ) -> None:
        self.symbols = symbols
        self.collateral = collateral
        self.rng = random.Random(seed)
        self.now: Millis = START_MS
        self.engine = Engine(symbols, 20, collateral.assets)
        self.oracle = Oracle(symbols, venues, collateral, self.rng, self.now, mode)
        self.quoters = {spec.symbol: Quoter(spec, policy) for spec in symbols.symbols}
        self.depth = 1.0
        """What the makers leave of their depth (the operator's withdrawal), 0..1."""
        self.journal: list[Event] = []
        """Every event, in order: replaying it rebuilds the engine."""
        self.rejected: list[Rejected] = []
        self.makers = [AccountId(number) for number in range(1, makers + 1)]
        self.shocker = AccountId(makers + 1)
        self._next_account = makers + 2
        """The first id no account has yet: crowds take theirs from here."""
        for maker in self.makers:
            self.handle(FundAccount(maker, to_cash_f(maker_balance), self.now))
            for spec in symbols.symbols:
                self.handle(SetLeverage(maker, spec.symbol, maker_leverage, self.now))
        self.handle(FundAccount(self.shocker, to_cash_f(10_000_000_000.0), self.now))
        self.handle(SeedInsuranceFund(to_cash_f(insurance_fund), self.now))
        for spec in symbols.symbols:
            self.handle(SetLeverage(self.shocker, spec.symbol, 1, self.now))
            reference = spec.ticks(spec.reference_price)
            assert reference is not None
            self.handle(UpdateMarkPrice(spec.symbol, reference, self.now))

    # -- running ----------------------------------------------------------------------------

    def handle(self, command: Command) -> list[Event]:
        return self._submit(command)[0]

    def _submit(self, command: Command) -> tuple[list[Event], Reply]:
        events, reply = self.engine.handle(command)
        self.journal += events
        if isinstance(reply, Rejected):
            self.rejected.append(reply)
        return events, reply

    def run(self, seconds: int) -> None:
        for _ in range(seconds):
            self.step()

    def step(self) -> None:
        """One second: the venues move, the oracle prices (the engine liquidating whoever
        the marks put at their margin), then the makers requote."""
        self.now += STEP_MS
        self.oracle.step(self.now)
        books = {
            spec.symbol: OwnBook(*self.engine.top(spec.symbol)) for spec in self.symbols.symbols
        }
        for command in self.oracle.observe(self.now, books):
            self.handle(command)
        for spec in self.symbols.symbols:
            self._requote(spec)

    def _requote(self, spec: SymbolSpec) -> None:
        symbol = spec.symbol
        quoter = self.quoters[symbol]
        last = self.engine.top(symbol)[2]
        traded = self.oracle.marks[symbol] if last is None else last * float(spec.tick_size)
        quoter.update(traded, self.oracle.indexes[symbol])
        for offset, maker in enumerate(self.makers):
            self.handle(CancelAllOrders(maker, symbol, self.now))
            for side, price, lots in quoter.ladder(self.depth, offset):
                self.handle(
                    PlaceOrder(
                        maker,
                        symbol,
                        side,
                        OrderType.LIMIT,
                        lots,
                        price,
                        TimeInForce.GTC,
                        False,
                        "",
                        self.now,
                    )
                )

    # -- shocks -----------------------------------------------------------------------------

    def dump(self, symbol: str, notional: float) -> Cash:
        """Sell `notional` USDT at market on the exchange's own book (from the shock
        account); returns the notional that filled."""
        spec = self._spec(symbol)
        mark = self.oracle.marks.get(symbol) or float(spec.reference_price)
        lots = max(1, int(notional / (mark * float(spec.step_size))))
        _, reply = self._submit(
            PlaceOrder(
                self.shocker,
                symbol,
                Side.SELL,
                OrderType.MARKET,
                lots,
                None,
                None,
                False,
                "shock",
                self.now,
            )
        )
        if not isinstance(reply, Done):
            raise ConfigError(f"the dump was refused: {reply}")
        return reply.orders[0].cum_quote

    def dump_venue(self, index: str, notional: float, venue: str | None = None) -> float:
        """Sell `notional` USDT on a simulated venue (its own book by default); returns the
        venue's move as a fraction."""
        return self.oracle.venues[index].trade(-notional, venue)

    def liquidated(self) -> Cash:
        """Every liquidation's notional so far, all symbols."""
        return sum(stats.notional for stats in self.engine.liquidations().values())

    # -- the crowd --------------------------------------------------------------------------

    def open_crowd(self, crowd: Crowd, symbol: str) -> int:
        """Give the crowd its positions in `symbol` at their entries, against the holders;
        call before the makers first quote, so every entry trades with a holder. Returns the
        number of positions opened."""
        first = AccountId(self._next_account)
        self._next_account += crowd.size
        asset = self.collateral.assets[0] if self.collateral.assets else None
        takers: set[AccountId] = set()
        for command in open_crowd(crowd, self._spec(symbol), first, self.rng, self.now, asset):
            takers.update(
                event.taker for event in self.handle(command) if isinstance(event, TradeExecuted)
            )
        return len(takers & set(crowd.traders(first)))

    def _spec(self, symbol: str) -> SymbolSpec:
        spec = self.symbols.get(symbol)
        if spec is None:
            raise ConfigError(f"no symbol {symbol!r}")
        return spec
