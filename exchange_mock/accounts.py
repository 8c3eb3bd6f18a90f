"""Funded accounts with API keys derived from a seed, so every process (and every load
generator) computes the same table without sharing state."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from exchange_mock.settings import Settings
from exchange_mock.types import AccountId


@dataclass(frozen=True, slots=True)
class ApiAccount:
    """A configured account as its client knows it: its id, API key and secret, and what genesis
    funds it with. The engine keeps its money and positions (`engine.positions.Account`)."""

    id: AccountId
    api_key: str
    secret: str
    initial_balance: Decimal
    is_maker: bool


def _derive(seed: str, label: str) -> str:
    return hashlib.sha256(f"{seed}:{label}".encode()).hexdigest()


class AccountBook:
    """Trader accounts 1..N, then market-maker accounts, each with a 64-character key and secret
    (the shape of Binance's)."""

    def __init__(
        self,
        seed: str,
        traders: int,
        trader_balance: Decimal,
        makers: int,
        maker_balance: Decimal,
    ) -> None:
        self.accounts: tuple[ApiAccount, ...] = tuple(
            ApiAccount(
                id=AccountId(number),
                api_key=_derive(seed, f"key:{number}"),
                secret=_derive(seed, f"secret:{number}"),
                initial_balance=trader_balance if number <= traders else maker_balance,
                is_maker=number > traders,
            )
            for number in range(1, traders + makers + 1)
        )
        self._by_key = {account.api_key: account for account in self.accounts}

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountBook:
        return cls(
            settings.account_seed,
            settings.accounts,
            settings.initial_balance,
            settings.makers,
            settings.maker_balance,
        )

    def by_api_key(self, api_key: str) -> ApiAccount | None:
        return self._by_key.get(api_key)

    @property
    def traders(self) -> tuple[ApiAccount, ...]:
        return tuple(a for a in self.accounts if not a.is_maker)

    @property
    def makers(self) -> tuple[ApiAccount, ...]:
        return tuple(a for a in self.accounts if a.is_maker)

    @property
    def shock_account(self) -> AccountId:
        """The operator's shock account, numbered after the configured ones; it has no API key,
        as only the operator's shock route trades for it."""
        return AccountId(len(self.accounts) + 1)
