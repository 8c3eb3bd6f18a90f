"""`stampede`: one command line for the exchange mock and the load tests."""

from __future__ import annotations

import typer

from exchange_mock import cli as exchange_cli

app = typer.Typer(
    name="stampede",
    help="Load-test exchange infrastructure with cascade-style surges.",
    no_args_is_help=True,
    add_completion=False,
)
exchange_cli.register(app)


def main() -> None:
    app()
