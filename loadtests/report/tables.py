"""A table of already-formatted cells, printable as Markdown, HTML or a rich table.

The report (HTML and Markdown) and `stampede compare` (terminal and Markdown) show the same
tables in different media; building the cells once keeps them saying the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from rich.table import Table as RichTable


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def __post_init__(self) -> None:
        if any(len(row) != len(self.columns) for row in self.rows):
            raise ValueError(f"{self.title}: every row needs {len(self.columns)} cells")

    def markdown(self) -> str:
        lines = [
            f"### {self.title}",
            "",
            _markdown_row(self.columns),
            _markdown_row(tuple("---" for _ in self.columns)),
            *(_markdown_row(row) for row in self.rows),
        ]
        return "\n".join(lines) + "\n"

    def html(self) -> str:
        head = "".join(f"<th>{escape(column)}</th>" for column in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
            for row in self.rows
        )
        return (
            f"<h3>{escape(self.title)}</h3>"
            f'<div class="table"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>"
        )

    def rich(self) -> RichTable:
        table = RichTable(*self.columns, title=self.title, title_justify="left")
        for row in self.rows:
            table.add_row(*row)
        return table


def _markdown_row(cells: tuple[str, ...]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"
