"""`stampede`: one command line for the exchange mock and the load tests."""

from __future__ import annotations

import typer
from rich.console import Console

from exchange_mock import cli as exchange_cli
from loadtests.demo import run_demo

app = typer.Typer(
    name="stampede",
    help="Load-test exchange infrastructure with cascade-style surges.",
    no_args_is_help=True,
    add_completion=False,
)
exchange_cli.register(app)


@app.command()
def demo() -> None:
    """Start the embedded exchange, trade on it with ccxt, print the result, stop."""
    run_demo(Console())


def main() -> None:
    app()
