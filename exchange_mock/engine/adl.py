"""Auto-deleveraging's queue: who is closed first when the insurance fund cannot cover a
liquidation, and the quantile Binance shows each position of where it stands in that queue.

The positions on one side of a symbol are ranked by PnL% × margin ratio, PnL% being
max(0, uPnL) / max(1, wallet) and the margin ratio the account's maintenance margin over its
equity: the most profitable, most leveraged go first. The quantile is that rank in fifths, 4
for the first fifth of the queue and 0 for the last. Binance refreshes it every 30 s; so does
the engine (in the scenario's time: a compressed run refreshes more often), on the first mark
of each refresh window of journal time, journaling only what changed.
"""

from __future__ import annotations

from collections.abc import Iterable

from exchange_mock.domain.events import AdlQuantile, AdlQuantilesUpdated
from exchange_mock.engine.margin import exposure
from exchange_mock.engine.positions import Account, Position
from exchange_mock.types import AccountId, Millis

ADL_SCALE = 10**36
"""Scores are compared as integers scaled by this: exact enough for cash amounts below 10^18."""
QUANTILES = 5
REFRESH_MS = 30_000
"""Binance's refresh interval."""


def rank(account: Account, position: Position) -> tuple[int, int, int]:
    """Sort key, first in the queue first: −(PnL% × margin ratio), −size, account id."""
    wallet = account.wallet()
    equity, maintenance = exposure(account)
    contract = position.contract
    pnl = (contract.mark_price() or 0) * position.qty * contract.unit - position.cost
    score = max(0, pnl) * maintenance * ADL_SCALE // (max(1, wallet) * max(1, equity))
    return -score, -abs(position.qty), account.id


def queue(accounts: Iterable[Account], symbol: str) -> list[Account]:
    """The accounts holding `symbol` on one side, in the order ADL would take them."""
    return sorted(accounts, key=lambda account: rank(account, account.positions[symbol]))


def quantiles(sides: Iterable[list[Account]], symbol: str) -> dict[AccountId, int]:
    """Each position's quantile within its side, for the sides given; 0s left out."""
    ranked: dict[AccountId, int] = {}
    for side in sides:
        ordered = queue(side, symbol)
        for place, account in enumerate(ordered):
            quantile = QUANTILES - 1 - QUANTILES * place // len(ordered)
            if quantile:
                ranked[account.id] = quantile
    return ranked


def due(previous_mark: Millis | None, ts: Millis, refresh_ms: int) -> bool:
    """Whether a mark at `ts` starts a new refresh window after the one at `previous_mark`."""
    return previous_mark is None or ts // refresh_ms != previous_mark // refresh_ms


def changes(
    symbol: str, before: dict[AccountId, int], after: dict[AccountId, int], ts: Millis
) -> AdlQuantilesUpdated | None:
    """The quantiles that moved between two refreshes (0 for a position gone), or None."""
    moved = tuple(
        AdlQuantile(account, after.get(account, 0))
        for account in sorted(before.keys() | after.keys())
        if before.get(account, 0) != after.get(account, 0)
    )
    return AdlQuantilesUpdated(symbol, moved, ts) if moved else None
