"""The command bus: the API appends commands to the orders stream and waits for the engine's
reply on its own channel, up to a deadline."""

from __future__ import annotations

from exchange_mock.domain.commands import Command
from exchange_mock.domain.replies import Reply


class CommandBus:
    async def submit(self, command: Command) -> Reply:
        """Append the command and wait for the engine's reply.

        Raises ExchangeError(Code.TIMEOUT, http 408) past the deadline: the command stays queued
        and may still execute, as on a real venue.
        """
        raise NotImplementedError
