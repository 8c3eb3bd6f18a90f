"""The exchange's commands, mounted on the `stampede` CLI: `exchange` and `accounts`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from exchange_mock.accounts import AccountBook
from exchange_mock.server import serve
from exchange_mock.settings import Role, Settings


def _settings(**overrides: object) -> Settings:
    """Environment first, then the options a user actually gave."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]


def exchange(
    host: Annotated[str | None, typer.Option(help="Address to bind.")] = None,
    port: Annotated[int | None, typer.Option(help="Port to bind.")] = None,
    workers: Annotated[int | None, typer.Option(help="API worker processes.")] = None,
    role: Annotated[
        list[Role] | None,
        typer.Option(help="Roles this process runs (repeat); all of them by default."),
    ] = None,
    accounts: Annotated[int | None, typer.Option(help="Funded trader accounts.")] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option(help="Keep the embedded Redis's data here, and reuse it on the next start."),
    ] = None,
) -> None:
    """Serve the mock exchange (with a private Redis unless REDIS_URL is set)."""
    serve(
        _settings(
            host=host,
            port=port,
            api_workers=workers,
            roles=frozenset(role) if role else None,
            accounts=accounts,
            redis_data_dir=data_dir,
        )
    )


def accounts(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for clients.")] = False,
    makers: Annotated[bool, typer.Option(help="Include the market makers' accounts.")] = False,
) -> None:
    """Print the funded accounts and their API keys (derived from the seed in the settings)."""
    settings = Settings()
    book = AccountBook.from_settings(settings)
    rows = [a for a in book.accounts if makers or not a.is_maker]
    if as_json:
        payload = [
            {
                "id": a.id,
                "api_key": a.api_key,
                "secret": a.secret,
                "balance": str(a.initial_balance),
                "maker": a.is_maker,
            }
            for a in rows
        ]
        typer.echo(json.dumps(payload, indent=2))
        return
    table = Table("id", "api key", "secret", "balance (USDT)", "maker")
    for a in rows:
        table.add_row(str(a.id), a.api_key, a.secret, str(a.initial_balance), "yes" * a.is_maker)
    Console().print(table)


def register(app: typer.Typer) -> None:
    app.command()(exchange)
    app.command()(accounts)
