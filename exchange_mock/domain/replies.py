"""What the engine answers the one client that sent a command (not journaled: a refused command
changes nothing, so there is nothing to replay)."""

from __future__ import annotations

from dataclasses import dataclass

from exchange_mock.domain.events import OrderSnapshot


@dataclass(frozen=True, slots=True)
class Rejected:
    """The engine refused the command, with Binance's code and message."""

    code: int
    msg: str


@dataclass(frozen=True, slots=True)
class Done:
    """The command took effect; `orders` are the orders it created or touched, final state."""

    orders: tuple[OrderSnapshot, ...] = ()


Reply = Done | Rejected
