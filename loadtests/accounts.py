"""The accounts the harness trades as: read from a file, or derived from the mock's seed.

A file is what `stampede accounts --json` prints (a list of `{"id", "api_key", "secret", ...}`),
so any target works, the mock or a staging venue whose keys someone exported. Against the mock
the same table can be derived from its seed instead, as every mock process derives it.

Probe accounts are split off the end of the table: the harness alone trades them, so it knows
every state their positions pass through (see `staleness.py`). Market makers' accounts are never
used; trading them would move the book the surge is measured against.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from exchange_mock.accounts import AccountBook

DEFAULT_SEED = "stampede"
"""The mock's default account seed."""
DEFAULT_COUNT = 100
"""The mock's default number of funded trader accounts."""


class AccountsError(ValueError):
    """An accounts file that cannot be read, or a table too small for the run."""


class ApiAccount(BaseModel):
    """One account as a client holds it: a name for logs and metrics, its key and secret."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    api_key: str = Field(min_length=1, repr=False)
    secret: str = Field(min_length=1, repr=False)


class _FileRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int | str
    api_key: str = Field(min_length=1)
    secret: str = Field(min_length=1)
    maker: bool = False


_FILE = TypeAdapter(list[_FileRow])


class AccountPlan(BaseModel):
    """The run's accounts: traders for the paced load, probes for read-your-writes checks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    traders: tuple[ApiAccount, ...] = Field(min_length=1)
    probes: tuple[ApiAccount, ...] = ()


def read_accounts_file(path: Path) -> tuple[ApiAccount, ...]:
    """The non-maker accounts of a `stampede accounts --json` file, in file order."""
    try:
        rows = _FILE.validate_python(json.loads(path.read_text()))
    except OSError as exc:
        raise AccountsError(f"{path}: cannot read the accounts file: {exc.strerror}") from exc
    except (ValueError, ValidationError) as exc:
        raise AccountsError(f"{path}: not an accounts file: {exc}") from exc
    return tuple(
        ApiAccount(name=str(row.id), api_key=row.api_key, secret=row.secret)
        for row in rows
        if not row.maker
    )


def seeded_accounts(seed: str, count: int) -> tuple[ApiAccount, ...]:
    """The mock's trader accounts 1..count for `seed`, as every mock process derives them."""
    book = AccountBook(seed, count, Decimal(1), makers=0, maker_balance=Decimal(1))
    return tuple(
        ApiAccount(name=str(account.id), api_key=account.api_key, secret=account.secret)
        for account in book.traders
    )


def split_probes(accounts: Sequence[ApiAccount], probes: int) -> AccountPlan:
    """The last `probes` accounts become probe accounts; at least one trader must remain."""
    if probes < 0:
        raise AccountsError(f"cannot set aside {probes} probe accounts")
    if len(accounts) <= probes:
        raise AccountsError(
            f"{len(accounts)} accounts leave no trader once {probes} are set aside as probes"
        )
    cut = len(accounts) - probes
    return AccountPlan(traders=tuple(accounts[:cut]), probes=tuple(accounts[cut:]))


def share(accounts: Sequence[ApiAccount], *, stride: int, offset: int) -> tuple[ApiAccount, ...]:
    """The accounts load generator `offset` of `stride` trades, so generators rarely share
    one; with fewer accounts than generators, each still gets one (shared, then)."""
    if not accounts:
        return ()
    mine = tuple(accounts[offset::stride])
    return mine or (accounts[offset % len(accounts)],)
