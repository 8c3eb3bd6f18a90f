"""Position watchers: the position and account queries of a surge (the `queries` class), which
rose about 1000x in October 2025 as everyone checked how close they were to liquidation.

Each watcher polls its account's positions (positionRisk v2), account information and balances,
signed, and records the mock's journal-lag headers that come with those reads.
"""

from __future__ import annotations

from typing import ClassVar

from loadtests.profiles import RequestClass
from loadtests.users.client import Call, Security
from loadtests.users.paced import PacedUser

CALLS = (
    (Call("positionRisk", "GET", "/fapi/v2/positionRisk", security=Security.SIGNED), 0.6),
    (Call("account", "GET", "/fapi/v2/account", security=Security.SIGNED), 0.2),
    (Call("balance", "GET", "/fapi/v2/balance", security=Security.SIGNED), 0.2),
)
"""What watchers ask, and how often: mostly positions, the hot read of a cascade."""


class WatcherUser(PacedUser):
    request_class = RequestClass.QUERIES
    signs_as_trader = True
    reads_journal_lag = True
    _calls: ClassVar[tuple[Call, ...]] = tuple(call for call, _ in CALLS)
    _weights: ClassVar[tuple[float, ...]] = tuple(weight for _, weight in CALLS)

    def next_call(self) -> Call:
        return self.rng.choices(self._calls, self._weights)[0]
