"""Everything the engine holds, in one place the command handlers share: the contracts, the
collateral assets, the accounts, the insurance fund, the counters conservation is audited
against, and the derived indexes (the watch lists, the margin calls in force, the ADL
quantiles).

Each handler module (trading, deposits, prices, funding) changes this state and describes the
change in the events it returns; `replay` changes it the same way from those events.
"""

from __future__ import annotations

from collections.abc import Sequence

from exchange_mock.collateral import CollateralSpec
from exchange_mock.engine.collateral import CollateralAsset, Holding
from exchange_mock.engine.contract import Contract
from exchange_mock.engine.liquidation import InsuranceFund, LiquidationStats
from exchange_mock.engine.positions import Account, Position
from exchange_mock.engine.watch import Watch
from exchange_mock.risk import max_notional
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import AccountId, Cash


class State:
    def __init__(
        self,
        symbols: SymbolTable,
        default_leverage: int,
        collateral: Sequence[CollateralSpec],
        margin_call_ppm: int,
    ) -> None:
        self.contracts = {spec.symbol: Contract(spec, default_leverage) for spec in symbols.symbols}
        self.assets = {spec.asset: CollateralAsset(spec) for spec in collateral}
        self.accounts: dict[AccountId, Account] = {}
        self.next_order_id = 1
        self.next_trade_id = 1
        self.seeded: Cash = 0
        self.fees: Cash = 0
        self.deposited: dict[str, int] = dict.fromkeys(self.assets, 0)
        self.insurance = InsuranceFund()
        self.stats = {symbol: LiquidationStats() for symbol in self.contracts}
        self.watch = Watch(self.contracts, margin_call_ppm)
        self.margin_called: set[AccountId] = set()
        """Accounts under a margin call: called once per crossing, until lifted."""
        self.adl_quantiles: dict[str, dict[AccountId, int]] = {s: {} for s in self.contracts}
        """Per symbol, the quantiles last published (0s left out)."""

    def account(self, account_id: AccountId) -> Account:
        account = self.accounts.get(account_id)
        if account is None:
            account = self.accounts[account_id] = Account(account_id)
        return account

    def position(self, account_id: AccountId, symbol: str) -> Position:
        return self.account(account_id).position(self.contracts[symbol])

    def existing_position(self, account_id: AccountId, symbol: str) -> Position | None:
        account = self.accounts.get(account_id)
        return None if account is None else account.positions.get(symbol)

    def fund_holding(self, asset: str) -> Holding:
        holding = self.insurance.collateral.get(asset)
        if holding is None:
            holding = self.insurance.collateral[asset] = Holding(self.assets[asset])
        return holding

    @staticmethod
    def apply_leverage(position: Position, leverage: int) -> None:
        position.leverage = leverage
        position.max_notional = max_notional(position.contract.spec, leverage)
