from __future__ import annotations

import pytest

from loadtests.report.tables import Table

TABLE = Table("Errors", ("kind", "share"), (("429 | 418", "4%"), ("<503>", "5%")))


def test_markdown_escapes_pipes_inside_cells() -> None:
    assert TABLE.markdown().splitlines() == [
        "### Errors",
        "",
        "| kind | share |",
        "| --- | --- |",
        "| 429 \\| 418 | 4% |",
        "| <503> | 5% |",
    ]


def test_html_escapes_every_cell() -> None:
    assert "<td>&lt;503&gt;</td>" in TABLE.html()


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="every row needs 2 cells"):
        Table("Bad", ("a", "b"), (("only one",),))


def test_the_rich_table_has_the_same_rows() -> None:
    assert TABLE.rich().row_count == 2
