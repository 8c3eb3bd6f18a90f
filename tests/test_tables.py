"""Every rules table loads the same way: the copy shipped in the package, or a file by path,
validated by its model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from exchange_mock.api.ratelimit import RateLimitTable
from exchange_mock.collateral import CollateralTable
from exchange_mock.market.venues import VenueTable
from exchange_mock.symbols import SymbolTable
from exchange_mock.tables import ShippedTable

TABLES: list[type[ShippedTable]] = [SymbolTable, CollateralTable, RateLimitTable, VenueTable]


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.shipped)
def test_a_copy_of_the_shipped_table_given_by_path_reads_the_same(
    table: type[ShippedTable], tmp_path: Path
) -> None:
    path = tmp_path / table.shipped
    path.write_text(resources.files("exchange_mock.data").joinpath(table.shipped).read_text())

    assert table.load(path) == table.load()


def test_a_table_by_path_is_validated(tmp_path: Path) -> None:
    shipped = yaml.safe_load(
        resources.files("exchange_mock.data").joinpath("symbols.yaml").read_text()
    )
    shipped["symbols"] = []
    path = tmp_path / "symbols.yaml"
    path.write_text(yaml.safe_dump(shipped))

    with pytest.raises(ValidationError):
        SymbolTable.load(path)
