"""The engine: the exchange's one state machine, fed one command at a time.

It is pure (no I/O, no clock: times come on the commands; no randomness), and every change it
makes is described by the events it returns, so replaying the journal rebuilds exactly the same
state after a restart. A refused command returns no events and changes nothing.

This module wires the parts and answers reads; each kind of command is handled where its
concept lives: orders and leverage in `trading`, money coming in in `deposits`, marks and
collateral prices in `prices`, funding in `funding`, all sharing one `State`. A change of value
(a mark, a collateral price, funding) ends with the `checks`: liquidations, margin calls, ADL
quantiles, whose events follow in the same command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import assert_never

from exchange_mock.collateral import CollateralSpec
from exchange_mock.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    Command,
    DepositCollateral,
    FundAccount,
    PlaceOrder,
    SeedInsuranceFund,
    SetLeverage,
    SettleFunding,
    UpdateCollateralPrice,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import BookChanged, Event
from exchange_mock.engine.adl import REFRESH_MS
from exchange_mock.engine.audit import Audit, audit
from exchange_mock.engine.book_changes import book_changes
from exchange_mock.engine.checks import RiskChecks
from exchange_mock.engine.deposits import Deposits
from exchange_mock.engine.funding import Funding
from exchange_mock.engine.liquidation import LiquidationStats, Liquidator
from exchange_mock.engine.margin_calls import MarginCalls
from exchange_mock.engine.prices import Prices
from exchange_mock.engine.refusals import Outcome
from exchange_mock.engine.replay import replay
from exchange_mock.engine.state import State
from exchange_mock.engine.trading import Trading
from exchange_mock.errors import ConfigError
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import PPM, AccountId, Cash, Lots, Ticks

DEFAULT_MARGIN_CALL_PPM = 800_000
"""An account is margin-called at a margin ratio of 80% (liquidated at 100%)."""


class Engine:
    def __init__(
        self,
        symbols: SymbolTable,
        default_leverage: int,
        collateral: Sequence[CollateralSpec] = (),
        margin_call_ppm: int = DEFAULT_MARGIN_CALL_PPM,
        adl_refresh_ms: int = REFRESH_MS,
    ) -> None:
        """`margin_call_ppm`: the margin ratio that issues a margin call; `adl_refresh_ms`: how
        often (in mark time) ADL quantiles are ranked again."""
        highest = max(tier.mmr_ppm for spec in symbols.symbols for tier in spec.brackets)
        if not highest < margin_call_ppm < PPM:
            raise ConfigError(
                f"the margin-call ratio must lie between the highest maintenance margin rate "
                f"({highest / PPM:.2%}) and 100%, not {margin_call_ppm / PPM:.2%}"
            )
        self._state = state = State(symbols, default_leverage, collateral, margin_call_ppm)
        self._trading = Trading(state)
        liquidator = Liquidator(
            state.accounts, state.watch, state.insurance, state.stats, executor=self._trading
        )
        checks = RiskChecks(state, liquidator, MarginCalls(state, margin_call_ppm))
        self._deposits = Deposits(state)
        self._prices = Prices(state, checks, adl_refresh_ms)
        self._funding = Funding(state, checks)

    def handle(self, command: Command) -> Outcome:
        """Apply one command; return the events it caused (in order) and the reply to its
        sender."""
        match command:
            case PlaceOrder():
                return self._trading.place(command)
            case CancelOrder():
                return self._trading.cancel(command)
            case CancelAllOrders():
                return self._trading.cancel_all(command)
            case SetLeverage():
                return self._trading.set_leverage(command)
            case FundAccount():
                return self._deposits.fund(command)
            case DepositCollateral():
                return self._deposits.deposit(command)
            case SeedInsuranceFund():
                return self._deposits.seed_fund(command)
            case UpdateMarkPrice():
                return self._prices.update_mark(command)
            case UpdateCollateralPrice():
                return self._prices.update_collateral_price(command)
            case SettleFunding():
                return self._funding.settle(command)
            case _:
                assert_never(command)

    def replay(self, event: Event) -> None:
        """Rebuild state from a journaled event (restart)."""
        replay(self._state, event)

    # -- reads ----------------------------------------------------------------------------------

    def book_changes(self, events: Iterable[Event]) -> list[BookChanged]:
        """What a batch whose events were `events` did to the books (see `book_changes`)."""
        return book_changes(self._state.contracts, events)

    def depth(
        self, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Ticks, Lots]], list[tuple[Ticks, Lots]]]:
        """(book update id, bids best first, asks best first) as (price, size) levels."""
        book = self._state.contracts[symbol].book
        return book.update_id, book.bids.depth(limit), book.asks.depth(limit)

    def audit(self) -> Audit:
        return audit(self._state)

    def liquidations(self) -> dict[str, LiquidationStats]:
        """The truth counter, per symbol (copies)."""
        return {
            symbol: LiquidationStats(
                s.count, s.notional, s.time, s.deleveraged, s.deleveraged_notional
            )
            for symbol, s in self._state.stats.items()
        }

    def insurance_fund(self) -> Cash:
        return self._state.insurance.cash

    def top(self, symbol: str) -> tuple[Ticks | None, Ticks | None, Ticks | None]:
        """(best bid, best ask, last trade price) of a symbol's book."""
        contract = self._state.contracts[symbol]
        book = contract.book
        return book.bids.best_price(), book.asks.best_price(), contract.last_price

    def liquidation_price(self, account: AccountId, symbol: str) -> Ticks | None:
        """The account's position's liquidation price as the watch list holds it (after
        bringing stale entries up to date); None without a position."""
        state = self._state
        state.watch.refresh(state.accounts)
        return state.watch.symbols[symbol].liquidation.price(account)

    def adl_quantile(self, account: AccountId, symbol: str) -> int:
        """The account's ADL quantile in the symbol as last published (0 without one)."""
        return self._state.adl_quantiles[symbol].get(account, 0)

    def margin_called(self) -> frozenset[AccountId]:
        """The accounts under a margin call now."""
        return frozenset(self._state.margin_called)

    def state(self) -> dict[str, object]:
        """Everything a replay must restore, as plain comparable data: the books in priority
        order, the accounts (leaving out those in their initial state), collateral prices, the
        insurance fund, the counters, the margin calls and ADL quantiles in force."""
        state = self._state
        contracts = {
            symbol: {
                "update_id": contract.book.update_id,
                "mark": contract.mark,
                "mark_time": contract.mark_time,
                "funded_until": contract.funded_until,
                "last_price": contract.last_price,
                "bids": [order.snapshot() for order in contract.book.bids.orders()],
                "asks": [order.snapshot() for order in contract.book.asks.orders()],
            }
            for symbol, contract in state.contracts.items()
        }
        accounts: dict[AccountId, object] = {}
        for account_id, account in sorted(state.accounts.items()):
            positions = {
                symbol: (p.qty, p.cost, p.leverage, p.max_notional, p.open_notional, list(p.orders))
                for symbol, p in account.positions.items()
                if p.qty or p.cost or p.orders or p.leverage != p.contract.default_leverage
            }
            holdings = {asset: h.amount for asset, h in account.collateral.items() if h.amount}
            if account.balance or positions or holdings:
                accounts[account_id] = (account.balance, positions, holdings)
        return {
            "next_order_id": state.next_order_id,
            "next_trade_id": state.next_trade_id,
            "seeded": state.seeded,
            "fees": state.fees,
            "contracts": contracts,
            "accounts": accounts,
            "assets": {asset: a.price for asset, a in state.assets.items()},
            "deposited": dict(state.deposited),
            "fund": (
                state.insurance.cash,
                {a: h.amount for a, h in state.insurance.collateral.items() if h.amount},
            ),
            "liquidations": self.liquidations(),
            "margin_called": sorted(state.margin_called),
            "adl_quantiles": state.adl_quantiles,
        }
