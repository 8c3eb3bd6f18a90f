"""Every Redis key and channel name the exchange uses, in one place.

Layout (all under the settings' `key_prefix`, `p` below):

| key                          | type    | written by | holds                                     |
|------------------------------|---------|------------|-------------------------------------------|
| p:orders                     | stream  | API        | commands, one entry each (field `m`)      |
| p:journal                    | stream  | engine     | events; entry id `<seq>-0`; fields `m`    |
|                              |         |            | (the event), `c` (the command's id;       |
|                              |         |            | `books` for a batch's `BookChanged`s) and |
|                              |         |            | `t` (when it was journaled, ms)           |
| p:engine:cursor              | string  | engine     | last command id applied (same MULTI)      |
| p:journal:head               | string  | engine     | last journal seq written (same MULTI)     |
| p:snapshot                   | hash    | engine     | `seq`, `at` (ms), `state`: the engine as  |
|                              |         |            | of journal seq `seq` (`snapshots.py`)     |
| p:feeds:seq                  | string  | feeds      | last journal seq the publisher read       |
| p:reply:<worker>             | pub/sub | engine     | replies to one API worker                 |
| p:acct:<account>             | hash    | projector  | `bal`, `pos:<symbol>`, `lev:<symbol>`,    |
|                              |         |            | `col:<asset>` (collateral held),          |
|                              |         |            | `adl:<symbol>` (ADL quantile),            |
|                              |         |            | `oo:<symbol>` ([bid, ask] notional of the |
|                              |         |            | open orders holding margin), `seq`, `ut`  |
|                              |         |            | — the account read model                  |
| p:order:<account>:<orderId>  | string  | projector  | the order snapshot (JSON); once the order |
|                              |         |            | is done, expires after the retention      |
| p:open:<account>             | set     | projector  | `<symbol>:<orderId>` of resting orders     |
| p:coid:<account>:<clientId>  | string  | projector  | orderId; expires with the order's record  |
| p:projector:seq              | string  | projector  | last journal seq applied                  |
| p:marks                      | hash    | projector  | `<symbol>` -> [mark ticks, time, index    |
|                              |         |            | ticks, funding rate 1e-8] (JSON)          |
| p:ticker:<symbol>            | hash    | projector  | last/open/high/low/volume/quote volume    |
| p:totals                     | hash    | projector  | `seeded`, `fees`, `fund` (the insurance   |
|                              |         |            | fund's cash), `seeded:<asset>`,           |
|                              |         |            | `fund:<asset>`: for the conservation audit|
| p:depth:<symbol>             | string  | engine     | book snapshot (JSON) after each batch     |
| p:trades:<symbol>            | zset    | projector  | public trades (JSON), scored by trade id; |
|                              |         |            | the newest `history_rows` kept            |
| p:klines:<symbol>            | zset    | projector  | one-minute bars (JSON), scored by their   |
|                              |         |            | open time; `history_window_ms` kept       |
| p:openinterest               | hash    | projector  | `<symbol>` -> [time, long lots, 0] (JSON) |
| p:oihist:<symbol>            | zset    | projector  | open interest every 5 minutes (JSON [time,|
|                              |         |            | lots, value]); `history_window_ms` kept   |
| p:funding:<symbol>           | zset    | projector  | settled funding (JSON), scored by funding |
|                              |         |            | time; the newest `history_rows` kept      |
| p:orderlog:<account>:<symbol>| zset    | projector  | the account's order ids, scored by id;    |
|                              |         |            | the newest `history_rows` kept            |
| p:fills:<account>:<symbol>   | zset    | projector  | the account's fills (JSON), scored by     |
|                              |         |            | trade id; the newest `history_rows` kept  |
| p:income:<account>           | zset    | projector  | the account's wallet movements (JSON),    |
|                              |         |            | scored by tranId (journal seq × 4 + n)    |
| p:forced:<account>           | zset    | projector  | the account's liquidation and ADL orders  |
|                              |         |            | (order snapshots, JSON), scored by time   |
| p:listenkey:<key>            | string  | API        | account id, with the listen key's TTL     |
| p:rl:ip:<ip>:<window>        | string  | API        | request weight of one IP in one window    |
|                              |         |            | (`1M:<n>`: the limit, and the window's    |
|                              |         |            | number since the epoch); expires with it  |
| p:rl:acct:<account>:<window> | string  | API        | new orders of one account in one window   |
| p:rl:penalty:<ip>            | hash    | API        | `until` (banned until, ms), `bans` (rung  |
|                              |         |            | on the ban ladder), `retry`, `strikes`    |
|                              |         |            | (refusals in the current Retry-After)     |
| p:rl:ws:<ip>:<window>        | string  | API        | WebSocket connection attempts of one IP   |
|                              |         |            | in one 5-minute window; expires with it   |
| p:faults                     | hash    | operator,  | fault kind -> value, the faults in force  |
|                              |         | engine     | (the engine's process sets the configured |
|                              |         | start      | ones when it starts)                      |
| p:faults:changed             | pub/sub | same       | a notice after every change of p:faults   |
| p:feed:<stream>              | pub/sub | feeds      | one market stream's payloads (JSON), the  |
|                              |         |            | stream named as Binance names it:         |
|                              |         |            | `btcusdt@markPrice@1s`, `!forceOrder@arr` |
| p:userfeed:<account>         | pub/sub | feeds, API | one account's user-data payloads (JSON)   |
| p:feedstats                  | hash    | feeds, API | `liquidations:<symbol>` (every one the    |
|                              |         |            | feed read), `forceOrder:<symbol>` (those  |
|                              |         |            | pushed), `slow_consumers` (clients        |
|                              |         |            | dropped)                                  |
| p:accounts                   | set     | projector  | every account ever funded (the audit's)   |
| p:collateral                 | hash    | projector  | `<asset>` -> [price 1e-8, haircut ppm,    |
|                              |         |            | time] (JSON)                              |
| p:liquidations               | hash    | projector  | `<symbol>:count`, `:notional`, `:time`,   |
|                              |         |            | `:adl_count`, `:adl_notional` — the truth |
| p:scenario                   | hash    | operator   | `oracle:<symbol or asset>` -> spot/index, |
|                              |         |            | `depth_pct`: read by the market agents    |
| p:shocks                     | list    | operator   | venue shocks (JSON) for the market agents |
| p:listing                    | string  | first      | the delivery date of each quarterly       |
|                              |         | process    | contract type (JSON), fixed when the      |
|                              |         |            | exchange first starts (`listing.py`)      |
| p:crash:<role>               | pub/sub | operator   | an order to crash the process running     |
|                              |         |            | `<role>` (`faults/role_crash.py`)         |
| p:vitals                     | hash    | every      | process id -> its last vitals (JSON): its |
|                              |         | process    | roles, CPU, requests in flight and shed,  |
|                              |         |            | Redis round trips (`telemetry/vitals.py`) |
| p:alive:<role>               | string  | the role's | its process's pid, expiring 3 s after its |
|                              |         | process    | last beat (`heartbeat.py`)                |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Keys:
    prefix: str

    @property
    def orders(self) -> str:
        return f"{self.prefix}:orders"

    @property
    def journal(self) -> str:
        return f"{self.prefix}:journal"

    @property
    def engine_cursor(self) -> str:
        return f"{self.prefix}:engine:cursor"

    @property
    def journal_head(self) -> str:
        return f"{self.prefix}:journal:head"

    @property
    def snapshot(self) -> str:
        return f"{self.prefix}:snapshot"

    @property
    def feeds_seq(self) -> str:
        return f"{self.prefix}:feeds:seq"

    def reply(self, worker: str) -> str:
        return f"{self.prefix}:reply:{worker}"

    def account(self, account: int) -> str:
        return f"{self.prefix}:acct:{account}"

    def order(self, account: int, order_id: int) -> str:
        return f"{self.prefix}:order:{account}:{order_id}"

    def open_orders(self, account: int) -> str:
        return f"{self.prefix}:open:{account}"

    def client_order_id(self, account: int, client_order_id: str) -> str:
        return f"{self.prefix}:coid:{account}:{client_order_id}"

    @property
    def projector_seq(self) -> str:
        return f"{self.prefix}:projector:seq"

    @property
    def marks(self) -> str:
        return f"{self.prefix}:marks"

    def ticker(self, symbol: str) -> str:
        return f"{self.prefix}:ticker:{symbol}"

    @property
    def totals(self) -> str:
        return f"{self.prefix}:totals"

    def depth(self, symbol: str) -> str:
        return f"{self.prefix}:depth:{symbol}"

    def trades(self, symbol: str) -> str:
        return f"{self.prefix}:trades:{symbol}"

    def klines(self, symbol: str) -> str:
        return f"{self.prefix}:klines:{symbol}"

    @property
    def open_interest(self) -> str:
        return f"{self.prefix}:openinterest"

    def open_interest_history(self, symbol: str) -> str:
        return f"{self.prefix}:oihist:{symbol}"

    def funding(self, symbol: str) -> str:
        return f"{self.prefix}:funding:{symbol}"

    def order_log(self, account: int, symbol: str) -> str:
        return f"{self.prefix}:orderlog:{account}:{symbol}"

    def fills(self, account: int, symbol: str) -> str:
        return f"{self.prefix}:fills:{account}:{symbol}"

    def income(self, account: int) -> str:
        return f"{self.prefix}:income:{account}"

    def forced(self, account: int) -> str:
        return f"{self.prefix}:forced:{account}"

    def listen_key(self, key: str) -> str:
        return f"{self.prefix}:listenkey:{key}"

    def rate_ip(self, ip: str, window: str) -> str:
        return f"{self.prefix}:rl:ip:{ip}:{window}"

    def rate_account(self, account: int, window: str) -> str:
        return f"{self.prefix}:rl:acct:{account}:{window}"

    def rate_penalty(self, ip: str) -> str:
        return f"{self.prefix}:rl:penalty:{ip}"

    def ws_attempts(self, ip: str, window: int) -> str:
        return f"{self.prefix}:rl:ws:{ip}:{window}"

    @property
    def faults(self) -> str:
        return f"{self.prefix}:faults"

    @property
    def faults_changed(self) -> str:
        return f"{self.prefix}:faults:changed"

    def feed(self, stream: str) -> str:
        return f"{self.prefix}:feed:{stream}"

    def user_feed(self, account: int) -> str:
        return f"{self.prefix}:userfeed:{account}"

    @property
    def feed_stats(self) -> str:
        return f"{self.prefix}:feedstats"

    @property
    def accounts(self) -> str:
        return f"{self.prefix}:accounts"

    @property
    def collateral(self) -> str:
        return f"{self.prefix}:collateral"

    @property
    def liquidations(self) -> str:
        return f"{self.prefix}:liquidations"

    @property
    def scenario(self) -> str:
        return f"{self.prefix}:scenario"

    @property
    def shocks(self) -> str:
        return f"{self.prefix}:shocks"

    @property
    def listing(self) -> str:
        return f"{self.prefix}:listing"

    @property
    def vitals(self) -> str:
        return f"{self.prefix}:vitals"

    def crash(self, role: str) -> str:
        return f"{self.prefix}:crash:{role}"

    def alive(self, role: str) -> str:
        return f"{self.prefix}:alive:{role}"
