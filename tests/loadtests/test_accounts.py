from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from exchange_mock.accounts import AccountBook
from loadtests.accounts import (
    AccountsError,
    ApiAccount,
    read_accounts_file,
    seeded_accounts,
    share,
    split_probes,
)


def _accounts(n: int) -> tuple[ApiAccount, ...]:
    return tuple(ApiAccount(name=str(i), api_key=f"k{i}", secret=f"s{i}") for i in range(n))


def test_a_file_as_stampede_accounts_prints_it_skipping_makers(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    rows = [
        {"id": 1, "api_key": "k1", "secret": "s1", "balance": "100000", "maker": False},
        {"id": 2, "api_key": "k2", "secret": "s2", "balance": "100000"},
        {"id": 3, "api_key": "k3", "secret": "s3", "balance": "5e7", "maker": True},
    ]
    path.write_text(json.dumps(rows))
    assert read_accounts_file(path) == (
        ApiAccount(name="1", api_key="k1", secret="s1"),
        ApiAccount(name="2", api_key="k2", secret="s2"),
    )


@pytest.mark.parametrize("text", ["not json", '{"id": 1}', '[{"id": 1, "api_key": "k"}]'])
def test_a_file_that_is_not_an_accounts_file_says_so(tmp_path: Path, text: str) -> None:
    path = tmp_path / "accounts.json"
    path.write_text(text)
    with pytest.raises(AccountsError, match="not an accounts file"):
        read_accounts_file(path)


def test_a_missing_file_names_itself(tmp_path: Path) -> None:
    with pytest.raises(AccountsError, match=r"missing\.json"):
        read_accounts_file(tmp_path / "missing.json")


def test_seeded_accounts_are_the_ones_the_mock_derives() -> None:
    book = AccountBook("seed", 5, Decimal(100), makers=2, maker_balance=Decimal(1))
    derived = seeded_accounts("seed", 5)
    assert [(a.name, a.api_key, a.secret) for a in derived] == [
        (str(a.id), a.api_key, a.secret) for a in book.traders
    ]


def test_probes_come_off_the_end_and_leave_traders() -> None:
    plan = split_probes(_accounts(5), 2)
    assert [a.name for a in plan.traders] == ["0", "1", "2"]
    assert [a.name for a in plan.probes] == ["3", "4"]
    with pytest.raises(AccountsError, match="leave no trader"):
        split_probes(_accounts(2), 2)


def test_generators_share_accounts_without_overlap_while_there_are_enough() -> None:
    accounts = _accounts(5)
    shares = [share(accounts, stride=2, offset=offset) for offset in (0, 1)]
    assert [[a.name for a in mine] for mine in shares] == [["0", "2", "4"], ["1", "3"]]
    assert [a.name for a in share(_accounts(1), stride=3, offset=2)] == ["0"]
    assert share((), stride=1, offset=0) == ()


def test_an_account_never_shows_its_secret() -> None:
    assert "s0" not in repr(_accounts(1)[0])
