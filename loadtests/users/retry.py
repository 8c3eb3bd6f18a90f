"""How a client answers a failed request: the knob that decides whether a surge feeds itself.

A venue under stress sees its clients' error handling as load: clients that retry at once double
the traffic that just failed, clients that back off with jitter spread it out, clients that
honour Retry-After stop until told. The modes are the policies real clients ship with:

- `none`: give up on the first failure (the request's outcome is that failure);
- `immediate`: try again at once;
- `backoff`: exponential backoff with full jitter (a random wait up to base × 2^(n−1), capped);
- `retry-after`: wait as long as the venue's Retry-After says, and hold every other request of
  the same client (address) until then too, since the limit is the address's; without a
  Retry-After, back off.

Only failures a retry can fix are retried: rate limits and bans, timeouts, 503s, throttling and
connection errors, and -1021 (the request outlived its recvWindow on the way; signed afresh, it
is a new request). A rejection (-2019 margin insufficient, a bad price) would fail again. Orders
whose fate is unknown (408/-1007, 503 "Unknown error") are retried too, as aggressive clients
do: that is how a venue ends up executing an order twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from enum import StrEnum

from loadtests.metrics import Outcome


class RetryMode(StrEnum):
    NONE = "none"
    IMMEDIATE = "immediate"
    BACKOFF = "backoff"
    RETRY_AFTER = "retry-after"


RETRYABLE = frozenset(
    {
        Outcome.RATE_LIMITED_429,
        Outcome.BANNED_418,
        Outcome.TIMEOUT_408,
        Outcome.EXPIRED_1021,
        Outcome.UNAVAILABLE_503_UNKNOWN,
        Outcome.UNAVAILABLE_503,
        Outcome.THROTTLED_1008,
        Outcome.CLIENT_TIMEOUT,
        Outcome.CONNECTION_ERROR,
    }
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    mode: RetryMode
    max_attempts: int = 5
    """Attempts in all, the first included: a bounded loop even against a venue that is down."""
    base_delay_s: float = 0.05
    max_delay_s: float = 5.0
    longest_retry_after_s: float = 60.0
    """A Retry-After beyond this (a long ban) makes the client give up instead of waiting."""

    def delay(
        self, attempt: int, outcome: Outcome, retry_after_s: float | None, rng: random.Random
    ) -> float | None:
        """Seconds to wait before the next attempt, after attempt number `attempt` (from 1)
        ended in `outcome`; None to give up and keep that outcome."""
        if self.mode is RetryMode.NONE or outcome not in RETRYABLE:
            return None
        if attempt >= self.max_attempts:
            return None
        if self.mode is RetryMode.IMMEDIATE:
            return 0.0
        if self.mode is RetryMode.RETRY_AFTER and retry_after_s is not None:
            return retry_after_s if retry_after_s <= self.longest_retry_after_s else None
        ceiling = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(0, ceiling)


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds; None when absent or not a number (the HTTP-date form is not one
    Binance sends)."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, seconds)


class Holds:
    """Until when each client (by address) holds its requests, as Retry-After told it: a client
    that honours Retry-After stops sending altogether, not only the request that was refused."""

    def __init__(self, policy: RetryPolicy) -> None:
        self._policy = policy
        self._until: dict[str | None, float] = {}

    def wait(self, client: str | None, now: float) -> float:
        """Seconds `client` must still hold its requests at `now`."""
        if self._policy.mode is not RetryMode.RETRY_AFTER:
            return 0.0
        return max(0.0, self._until.get(client, 0.0) - now)

    def told(self, client: str | None, now: float, retry_after_s: float | None) -> None:
        """The venue answered `client` at `now` with this Retry-After. A wait longer than the
        policy's longest (a long ban) is not waited out, just as its request is given up."""
        if self._policy.mode is not RetryMode.RETRY_AFTER or retry_after_s is None:
            return
        if retry_after_s <= self._policy.longest_retry_after_s:
            self._until[client] = max(self._until.get(client, 0.0), now + retry_after_s)
