"""Reads of the projector's read model (and the engine's published market data) for the API.

Each read is one Redis round trip (a non-transactional pipeline), so the API tier stays a thin,
stateless layer and its cost is what the positionRisk benchmark compares against a bare HGETALL.
Record encodings are shared with the projector through `records.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Iterable
from typing import cast

from redis.asyncio import Redis

from exchange_mock.domain import codec
from exchange_mock.domain.events import OrderSnapshot
from exchange_mock.store import records, scripts
from exchange_mock.store.keys import Keys
from exchange_mock.store.records import Fields
from exchange_mock.store.views import (
    AccountView,
    BarView,
    DepthView,
    FillView,
    FundingView,
    IncomeView,
    LiquidationView,
    MarkView,
    OpenInterestView,
    PositionView,
    TickerView,
    TradeView,
)
from exchange_mock.types import AccountId, OrderId


def _int(raw: bytes | str | None) -> int:
    return int(raw) if raw else 0


def _pairs(flat: list[bytes]) -> dict[bytes, bytes]:
    """A hash as a script returns it, [field, value, field, value, ...], as a dict."""
    return dict(zip(flat[::2], flat[1::2], strict=True))


def _str(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


class ReadModel:
    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._account_script = redis.register_script(scripts.source("account"))
        self._account_globals = [
            key.encode()
            for key in (keys.projector_seq, keys.journal_head, keys.marks, keys.collateral)
        ]
        """The keys every account read shares, encoded once: this is the hottest read."""

    async def account(self, account: AccountId) -> AccountView:
        """Balance, positions, leverage, collateral, marks, collateral prices and the
        sequences, in one round trip."""
        flat_fields, projected, head, flat_marks, flat_prices = await self._account_script(
            [self._keys.account(account), *self._account_globals]
        )
        fields, marks, prices = _pairs(flat_fields), _pairs(flat_marks), _pairs(flat_prices)
        balance, balance_time = records.load_balance(fields.get(b"bal"))
        positions: dict[str, PositionView] = {}
        leverage: dict[str, int] = {}
        collateral: dict[str, int] = {}
        adl: dict[str, int] = {}
        open_notional: dict[str, tuple[int, int]] = {}
        for name, raw in fields.items():
            kind, _, symbol = _str(name).partition(":")
            if kind == "pos":
                positions[symbol] = records.load_position(symbol, raw)
            elif kind == "lev":
                leverage[symbol] = int(raw)
            elif kind == "col":
                collateral[symbol] = int(raw)
            elif kind == "adl":
                adl[symbol] = int(raw)
            elif kind == "oo":
                open_notional[symbol] = records.load_open_notional(raw)
        mark_prices = {_str(sym): records.load_mark(raw)[0] for sym, raw in marks.items()}
        return AccountView(
            account=account,
            balance=balance,
            balance_update_time=balance_time,
            positions=positions,
            leverage=leverage,
            seq=_int(fields.get(b"seq")),
            projected_seq=_int(projected),
            journal_head=_int(head),
            marks={sym: price for sym, price in mark_prices.items() if price is not None},
            collateral=collateral,
            collateral_prices={
                _str(asset): records.load_collateral_price(raw) for asset, raw in prices.items()
            },
            adl=adl,
            open_notional=open_notional,
        )

    async def sequences(self) -> tuple[int, int]:
        """The journal sequence the read model has applied up to, and the journal's head."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.get(self._keys.projector_seq)
        pipe.get(self._keys.journal_head)
        projected, head = await pipe.execute()
        return _int(projected), _int(head)

    async def caught_up(self, stop: asyncio.Event, poll_s: float) -> None:
        """Return once the read model has applied the journal as it stood when first asked
        (an empty journal is not caught up with: its genesis is still to come), or at `stop`."""
        target = 0
        while not stop.is_set():
            projected, head = await self.sequences()
            target = target or head
            if target and projected >= target:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), poll_s)

    async def order(
        self, account: AccountId, order_id: OrderId | None, client_order_id: str | None
    ) -> OrderSnapshot | None:
        if order_id is None:
            if client_order_id is None:
                return None
            found = await self._redis.get(self._keys.client_order_id(account, client_order_id))
            if found is None:
                return None
            order_id = OrderId(int(found))
        raw = await self._redis.get(self._keys.order(account, order_id))
        return None if raw is None else codec.decode_snapshot(raw)

    async def open_orders(self, account: AccountId, symbol: str | None) -> list[OrderSnapshot]:
        members = await cast(
            Awaitable[set[bytes]], self._redis.smembers(self._keys.open_orders(account))
        )
        ids = []
        for member in members:
            member_symbol, _, order_id = _str(member).partition(":")
            if symbol is None or member_symbol == symbol:
                ids.append(int(order_id))
        if not ids:
            return []
        raws = await self._redis.mget([self._keys.order(account, i) for i in sorted(ids)])
        return [codec.decode_snapshot(raw) for raw in raws if raw is not None]

    async def depth(self, symbol: str, limit: int) -> DepthView:
        return records.load_depth(await self._redis.get(self._keys.depth(symbol)), limit)

    async def tickers(self, symbols: Iterable[str]) -> dict[str, dict[str, int]]:
        """Each symbol's ticker fields as integers (none before its first trade): the running
        figures the projector and the feeds carry on from when they start."""
        pipe = self._redis.pipeline(transaction=False)
        names = list(symbols)
        for symbol in names:
            pipe.hgetall(self._keys.ticker(symbol))
        found = await pipe.execute()
        return {symbol: records.parse_ticker(f) for symbol, f in zip(names, found, strict=True)}

    async def bars_now(self, symbols: Iterable[str]) -> dict[str, BarView]:
        """Each symbol's newest one-minute bar (if any), which the next trade may extend."""
        pipe = self._redis.pipeline(transaction=False)
        names = list(symbols)
        for symbol in names:
            pipe.zrange(self._keys.klines(symbol), -1, -1)
        found = await pipe.execute()
        return {
            symbol: records.load_bar(newest[0])
            for symbol, newest in zip(names, found, strict=True)
            if newest
        }

    async def ticker(self, symbol: str) -> TickerView:
        fields = await cast(Awaitable[Fields], self._redis.hgetall(self._keys.ticker(symbol)))
        return records.load_ticker(symbol, fields)

    async def _by_id(self, key: str, from_id: int | None, limit: int | None) -> list[bytes]:
        """A history's entries, oldest first: `limit` from `from_id` on, the newest `limit`
        without one, or all it keeps (a bounded number) without a limit."""
        if from_id is not None:
            return cast(
                list[bytes],
                await self._redis.zrangebyscore(
                    key, from_id, "+inf", start=0, num=-1 if limit is None else limit
                ),
            )
        return cast(list[bytes], await self._redis.zrange(key, -(limit or 0), -1))

    async def _from_before(self, key: str, start: int, end: int) -> list[bytes]:
        """A time-scored history's entries from `start` to `end`, led by the last one before
        `start` (if any), which holds until the next: one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zrevrangebyscore(key, f"({start}", "-inf", start=0, num=1)
        pipe.zrangebyscore(key, start, end)
        before, within = await pipe.execute()
        return [*before, *within]

    async def trades(self, symbol: str, from_id: int | None, limit: int | None) -> list[TradeView]:
        """`limit` trades from `from_id` on, or the newest `limit` without one, oldest first;
        without a limit, every one the history keeps (a bounded number)."""
        raws = await self._by_id(self._keys.trades(symbol), from_id, limit)
        return [records.load_trade(raw) for raw in raws]

    async def fills(
        self, account: AccountId, symbol: str, from_id: int | None, limit: int | None
    ) -> list[FillView]:
        """The account's fills in `symbol`, by trade id as `trades` pages them."""
        raws = await self._by_id(self._keys.fills(account, symbol), from_id, limit)
        return [records.load_fill(raw) for raw in raws]

    async def income(self, account: AccountId) -> list[IncomeView]:
        """The account's wallet movements the history keeps (a bounded number), oldest first."""
        raws = await self._by_id(self._keys.income(account), None, None)
        return [records.load_income(raw) for raw in raws]

    async def forced_orders(self, account: AccountId) -> list[OrderSnapshot]:
        """The account's liquidation and auto-deleveraging orders, oldest first."""
        raws = await self._by_id(self._keys.forced(account), None, None)
        return [codec.decode_snapshot(raw) for raw in raws]

    async def order_history(
        self, account: AccountId, symbol: str, from_id: int | None, limit: int | None
    ) -> list[OrderSnapshot]:
        """The account's orders in `symbol`, open and finished, by id as `trades` pages them."""
        ids = await self._by_id(self._keys.order_log(account, symbol), from_id, limit)
        if not ids:
            return []
        raws = await self._redis.mget([self._keys.order(account, int(i)) for i in ids])
        return [codec.decode_snapshot(raw) for raw in raws if raw is not None]

    async def open_interest(self, symbol: str) -> OpenInterestView:
        raw = await cast(
            Awaitable[bytes | None], self._redis.hget(self._keys.open_interest, symbol)
        )
        return records.load_open_interest(raw)

    async def open_interest_history(
        self, symbol: str, start: int, end: int
    ) -> list[OpenInterestView]:
        """The five-minute snapshots from `start` to `end`, led by the last before `start`
        (if any), whose value holds until the next."""
        raws = await self._from_before(self._keys.open_interest_history(symbol), start, end)
        return [records.load_open_interest(raw) for raw in raws]

    async def funding(self, symbol: str, start: int, end: int) -> list[FundingView]:
        """The symbol's settled funding from `start` to `end`, oldest first."""
        raws = await self._redis.zrangebyscore(self._keys.funding(symbol), start, end)
        return [records.load_funding(raw) for raw in raws]

    async def bars(self, symbol: str, start: int, end: int) -> list[BarView]:
        """The one-minute bars opened from `start` to `end`, led by the last bar before
        `start` (if any), whose close the quiet minutes after it carry forward."""
        raws = await self._from_before(self._keys.klines(symbol), start, end)
        return [records.load_bar(raw) for raw in raws]

    async def mark(self, symbol: str) -> MarkView:
        raw = await cast(Awaitable[bytes | None], self._redis.hget(self._keys.marks, symbol))
        return records.load_mark_view(symbol, raw)

    async def liquidations(self) -> tuple[dict[str, LiquidationView], int, int]:
        """The truth counter per symbol, the insurance fund's cash, and the journal sequence
        the read model reflects."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.hgetall(self._keys.liquidations)
        pipe.hget(self._keys.totals, "fund")
        pipe.get(self._keys.projector_seq)
        fields, fund, projected = await pipe.execute()
        return records.load_liquidations(fields), _int(fund), _int(projected)
