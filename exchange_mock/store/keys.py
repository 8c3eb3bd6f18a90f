"""Every Redis key and channel name the exchange uses, in one place.

Layout (all under the settings' `key_prefix`, `p` below):

| key                          | type    | written by | holds                                     |
|------------------------------|---------|------------|-------------------------------------------|
| p:orders                     | stream  | API        | commands, one entry each (field `m`)      |
| p:journal                    | stream  | engine     | events; entry id `<seq>-0`; fields `m`    |
|                              |         |            | (the event) and `c` (the command's id)    |
| p:engine:cursor              | string  | engine     | last command id applied (same MULTI)      |
| p:journal:head               | string  | engine     | last journal seq written (same MULTI)     |
| p:reply:<worker>             | pub/sub | engine     | replies to one API worker                 |
| p:acct:<account>             | hash    | projector  | `bal`, `pos:<symbol>`, `lev:<symbol>`,    |
|                              |         |            | `seq`, `ut` — the account read model      |
| p:order:<account>:<orderId>  | string  | projector  | the order snapshot (JSON)                 |
| p:open:<account>             | set     | projector  | `<symbol>:<orderId>` of resting orders     |
| p:coid:<account>             | hash    | projector  | clientOrderId -> orderId                  |
| p:projector:seq              | string  | projector  | last journal seq applied                  |
| p:marks                      | hash    | projector  | `<symbol>` -> [mark ticks, time] (JSON)   |
| p:ticker:<symbol>            | hash    | projector  | last/open/high/low/volume/quote volume    |
| p:totals                     | hash    | projector  | `seeded`, `fees`: for the conservation    |
|                              |         |            | audit                                     |
| p:depth:<symbol>             | string  | engine     | book snapshot (JSON) after each batch     |
| p:listenkey:<key>            | string  | API        | account id, with the listen key's TTL     |
| p:rl:ip:<ip>:<window>        | string  | API        | request weight of one IP in one window    |
|                              |         |            | (`1M:<n>`: the limit, and the window's    |
|                              |         |            | number since the epoch); expires with it  |
| p:rl:acct:<account>:<window> | string  | API        | new orders of one account in one window   |
| p:rl:penalty:<ip>            | hash    | API        | `until` (banned until, ms), `bans` (rung  |
|                              |         |            | on the ban ladder), `retry`, `strikes`    |
|                              |         |            | (refusals in the current Retry-After)     |
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

    def reply(self, worker: str) -> str:
        return f"{self.prefix}:reply:{worker}"

    def account(self, account: int) -> str:
        return f"{self.prefix}:acct:{account}"

    def order(self, account: int, order_id: int) -> str:
        return f"{self.prefix}:order:{account}:{order_id}"

    def open_orders(self, account: int) -> str:
        return f"{self.prefix}:open:{account}"

    def client_order_ids(self, account: int) -> str:
        return f"{self.prefix}:coid:{account}"

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

    def listen_key(self, key: str) -> str:
        return f"{self.prefix}:listenkey:{key}"

    def rate_ip(self, ip: str, window: str) -> str:
        return f"{self.prefix}:rl:ip:{ip}:{window}"

    def rate_account(self, account: int, window: str) -> str:
        return f"{self.prefix}:rl:acct:{account}:{window}"

    def rate_penalty(self, ip: str) -> str:
        return f"{self.prefix}:rl:penalty:{ip}"
