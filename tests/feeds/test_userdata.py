"""User-data messages from the events the real (pure) engine journals for one command."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import orjson

from exchange_mock.domain.commands import (
    CancelOrder,
    Command,
    FundAccount,
    PlaceOrder,
    SetLeverage,
    SettleFunding,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    BalanceChanged,
    Event,
    OrderAccepted,
    OrderUpdated,
    TradeExecuted,
)
from exchange_mock.engine.core import Engine
from exchange_mock.feeds.translator import FeedTranslator
from exchange_mock.feeds.userdata import user_updates
from exchange_mock.store.keys import Keys
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import (
    CASH_SCALE,
    AccountId,
    OrderId,
    OrderType,
    Side,
    TimeInForce,
)

SYMBOLS = SymbolTable.load()
BTC = SYMBOLS.by_name["BTCUSDT"]
PRICE = 1_225_000
"""122500.0 in ticks."""
TAKER, MAKER = AccountId(1), AccountId(2)
T0 = 1_700_000_000_000


class Exchange:
    """The engine fed by hand: each call is one command, returning its events."""

    def __init__(self) -> None:
        self.engine = Engine(SYMBOLS, default_leverage=20)
        self.clock = T0
        for account in (TAKER, MAKER):
            self.run(FundAccount(account, 100_000 * CASH_SCALE, T0))
        self.run(UpdateMarkPrice("BTCUSDT", PRICE, T0))

    def run(self, command: Command) -> list[Event]:
        events, _reply = self.engine.handle(command)
        return events

    def order(
        self,
        account: AccountId,
        side: Side,
        lots: int,
        price: int | None = None,
        tif: TimeInForce | None = TimeInForce.GTC,
        client_id: str = "",
    ) -> list[Event]:
        self.clock += 10
        kind = OrderType.LIMIT if price is not None else OrderType.MARKET
        return self.run(
            PlaceOrder(
                account, "BTCUSDT", side, kind, lots, price,
                tif if price is not None else None, False, client_id or f"c{self.clock}",
                self.clock,
            )
        )  # fmt: skip


def messages(events: list[Event], account: AccountId, kind: str) -> list[dict[str, Any]]:
    return [
        body
        for owner, body in user_updates(events, SYMBOLS, {"BTCUSDT": PRICE})
        if owner == account and body["e"] == kind
    ]


def test_a_market_order_crossing_two_makers_reports_new_then_each_fill() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.SELL, 1, PRICE)
    exchange.order(MAKER, Side.SELL, 2, PRICE + 10)
    events = exchange.order(TAKER, Side.BUY, 3, client_id="mine")
    taker = messages(events, TAKER, "ORDER_TRADE_UPDATE")
    assert [(m["o"]["x"], m["o"]["X"], m["o"]["l"], m["o"]["z"]) for m in taker] == [
        ("NEW", "NEW", "0", "0.000"),
        ("TRADE", "PARTIALLY_FILLED", "0.001", "0.001"),
        ("TRADE", "FILLED", "0.002", "0.003"),
    ]
    last = taker[-1]["o"]
    assert (last["c"], last["o"], last["S"], last["L"], last["m"]) == (
        "mine", "MARKET", "BUY", "122501.00", False,
    )  # fmt: skip
    assert last["ap"] == "122500.66666667"
    fee = Decimal("122501") * Decimal("0.002") * Decimal("0.0005")
    assert Decimal(last["n"]) == fee
    makers = messages(events, MAKER, "ORDER_TRADE_UPDATE")
    assert [(m["o"]["X"], m["o"]["m"], m["o"]["L"]) for m in makers] == [
        ("FILLED", True, "122500.00"),
        ("FILLED", True, "122501.00"),
    ]
    assert Decimal(makers[0]["o"]["n"]) == Decimal("122500") * Decimal("0.001") * Decimal("0.0002")


def test_times_come_from_the_journal_not_the_clock_of_sending() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.SELL, 1, PRICE)
    events = exchange.order(TAKER, Side.BUY, 1)
    for owner, body in user_updates(events, SYMBOLS, {}):
        assert body["E"] == body["T"] == exchange.clock, (owner, body)


def test_each_account_gets_one_account_update_with_balance_and_position() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.SELL, 2, PRICE)
    events = exchange.order(TAKER, Side.BUY, 2)
    (update,) = messages(events, TAKER, "ACCOUNT_UPDATE")
    body = update["a"]
    assert body["m"] == "ORDER"
    (balance,) = body["B"]
    expected_fee = Decimal("122500") * Decimal("0.002") * Decimal("0.0005")
    assert Decimal(balance["wb"]) == Decimal(100_000) - expected_fee
    assert balance["bc"] == "0.00000000"
    (position,) = body["P"]
    assert (position["s"], position["pa"], position["ep"], position["ps"]) == (
        "BTCUSDT", "0.002", "122500.00000000", "BOTH",
    )  # fmt: skip
    assert position["up"] == "0.00000000"
    (maker_update,) = messages(events, MAKER, "ACCOUNT_UPDATE")
    assert maker_update["a"]["P"][0]["pa"] == "-0.002"


def test_realized_pnl_of_a_command_sums_exactly_over_its_fills() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.SELL, 3, PRICE)
    exchange.order(TAKER, Side.BUY, 3)
    exchange.order(MAKER, Side.BUY, 1, PRICE + 500)
    exchange.order(MAKER, Side.BUY, 2, PRICE + 400)
    events = exchange.order(TAKER, Side.SELL, 3)
    (balance,) = [e for e in events if isinstance(e, BalanceChanged) and e.account == TAKER]
    fills = messages(events, TAKER, "ORDER_TRADE_UPDATE")[1:]
    assert len(fills) == 2
    realized = sum(Decimal(m["o"]["rp"]) for m in fills)
    assert realized == Decimal(balance.realized_pnl) / CASH_SCALE
    assert realized == Decimal("50.0") * Decimal("0.001") + Decimal("40.0") * Decimal("0.002")


def test_an_ioc_partly_filled_reports_its_fill_then_its_expiry() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.SELL, 1, PRICE)
    events = exchange.order(TAKER, Side.BUY, 3, PRICE, TimeInForce.IOC)
    updates = messages(events, TAKER, "ORDER_TRADE_UPDATE")
    assert [(m["o"]["x"], m["o"]["X"], m["o"]["z"]) for m in updates] == [
        ("NEW", "NEW", "0.000"),
        ("TRADE", "PARTIALLY_FILLED", "0.001"),
        ("EXPIRED", "EXPIRED", "0.001"),
    ]


def test_a_cancel_reports_canceled_and_no_account_update() -> None:
    exchange = Exchange()
    placed = exchange.order(TAKER, Side.BUY, 1, PRICE - 1_000)
    (accepted,) = [e for e in placed if isinstance(e, OrderAccepted)]
    events = exchange.run(
        CancelOrder(TAKER, "BTCUSDT", accepted.order.order_id, None, exchange.clock + 5)
    )
    updates = user_updates(events, SYMBOLS, {})
    assert [(a, m["e"], m["o"]["x"], m["o"]["X"]) for a, m in updates] == [
        (TAKER, "ORDER_TRADE_UPDATE", "CANCELED", "CANCELED")
    ]


def test_a_liquidation_order_reads_autoclose_and_its_fills_calculated() -> None:
    exchange = Exchange()
    exchange.order(MAKER, Side.BUY, 1, PRICE)
    events = [
        dataclasses.replace(e, order=dataclasses.replace(e.order, type=OrderType.LIQUIDATION))
        if isinstance(e, OrderAccepted | OrderUpdated) and e.order.account == TAKER
        else e
        for e in exchange.order(TAKER, Side.SELL, 1)
    ]
    trade = next(e for e in events if isinstance(e, TradeExecuted))
    updates = messages(events, TAKER, "ORDER_TRADE_UPDATE")
    assert [(m["o"]["x"], m["o"]["o"], m["o"]["ot"]) for m in updates] == [
        ("NEW", "LIQUIDATION", "LIQUIDATION"),
        ("CALCULATED", "LIQUIDATION", "LIQUIDATION"),
    ]
    assert {m["o"]["c"] for m in updates} == {f"autoclose-{trade.taker_order_id}"}
    assert OrderId(updates[0]["o"]["i"]) == trade.taker_order_id


def test_leverage_and_deposits_have_their_own_messages() -> None:
    exchange = Exchange()
    (leverage,) = user_updates(exchange.run(SetLeverage(TAKER, "BTCUSDT", 7, T0)), SYMBOLS, {})
    assert leverage == (
        TAKER,
        {"e": "ACCOUNT_CONFIG_UPDATE", "E": T0, "T": T0, "ac": {"s": "BTCUSDT", "l": 7}},
    )
    (deposit,) = user_updates(exchange.run(FundAccount(TAKER, 5 * CASH_SCALE, T0)), SYMBOLS, {})
    assert deposit[1]["a"] == {
        "m": "DEPOSIT",
        "B": [{"a": "USDT", "wb": "100005.00000000", "cw": "100005.00000000", "bc": "5.00000000"}],
        "P": [],
    }


def test_a_liquidation_as_the_engine_journals_it_reaches_its_owner_and_the_public_feed() -> None:
    """A long 1 BTC from 100,000 with 10,000 of margin, bids at 90,400, the mark falls to its
    liquidation price: the owner sees the LIQUIDATION order fill and one account update with
    the final balance; the public feed shows one forceOrder."""
    engine = Engine(SYMBOLS, default_leverage=20)
    long, maker, seller = AccountId(1), AccountId(2), AccountId(3)
    entry, lot = 1_000_000, 1_000
    setup: list[Command] = [
        FundAccount(long, 10_050 * CASH_SCALE, 0),
        FundAccount(maker, 10_000_000 * CASH_SCALE, 0),
        FundAccount(seller, 1_000_000 * CASH_SCALE, 0),
        UpdateMarkPrice("BTCUSDT", entry, 0),
        PlaceOrder(seller, "BTCUSDT", Side.SELL, OrderType.LIMIT, lot, entry, TimeInForce.GTC,
                   False, "s", 1),
        PlaceOrder(long, "BTCUSDT", Side.BUY, OrderType.MARKET, lot, None, None, False, "b", 2),
        PlaceOrder(maker, "BTCUSDT", Side.BUY, OrderType.LIMIT, lot, 904_000, TimeInForce.GTC,
                   False, "m", 3),
    ]  # fmt: skip
    for command in setup:
        engine.handle(command)
    events, _reply = engine.handle(UpdateMarkPrice("BTCUSDT", 904_020, T0))
    updates = messages(events, long, "ORDER_TRADE_UPDATE")
    assert [(m["o"]["x"], m["o"]["X"], m["o"]["o"]) for m in updates] == [
        ("NEW", "NEW", "LIQUIDATION"),
        ("CALCULATED", "FILLED", "LIQUIDATION"),
    ]
    assert updates[0]["o"]["c"].startswith("autoclose-")
    assert Decimal(updates[1]["o"]["rp"]) == Decimal(90_400 - 100_000)
    assert updates[1]["o"]["n"] == "0.00000000", "no trading fee on a liquidation"
    (account,) = messages(events, long, "ACCOUNT_UPDATE")
    assert account["a"]["B"][0]["wb"] == "0.00000000", "after the clearance fee"
    assert [(p["s"], p["pa"]) for p in account["a"]["P"]] == [("BTCUSDT", "0.000")]
    feed = FeedTranslator(Keys("t"), SYMBOLS, 1_000)
    for event in events:
        feed.apply(b"liquidation", event)
    feed.end_group()
    public = [orjson.loads(body) for channel, body in feed.due(T0 + 1_000) if "force" in channel]
    assert [p["o"]["q"] for p in public] == ["1.000", "1.000"]
    assert feed.throttle.truth["BTCUSDT"] == 1


def long_one_btc(engine: Engine, account: AccountId) -> None:
    """`account` long 1 BTC bought at 100,000 with 10,000 of wallet after its fee."""
    seller = AccountId(99)
    for command in (
        FundAccount(account, 10_050 * CASH_SCALE, 0),
        FundAccount(seller, 1_000_000 * CASH_SCALE, 0),
        UpdateMarkPrice("BTCUSDT", 1_000_000, 0),
        PlaceOrder(seller, "BTCUSDT", Side.SELL, OrderType.LIMIT, 1_000, 1_000_000,
                   TimeInForce.GTC, False, "s", 1),
        PlaceOrder(account, "BTCUSDT", Side.BUY, OrderType.MARKET, 1_000, None, None, False,
                   "b", 2),
    ):  # fmt: skip
        engine.handle(command)


def test_a_margin_call_reaches_its_account_in_binances_layout() -> None:
    """At 90,503.1 the long's margin ratio reaches 80%: 402.5155 of maintenance margin against
    503.1 of equity."""
    engine = Engine(SYMBOLS, default_leverage=20)
    long_one_btc(engine, TAKER)
    events, _reply = engine.handle(UpdateMarkPrice("BTCUSDT", 905_031, T0))
    assert user_updates(events, SYMBOLS, {}) == [
        (
            TAKER,
            {
                "e": "MARGIN_CALL",
                "E": T0,
                "cw": "10000.00000000",
                "p": [
                    {
                        "s": "BTCUSDT",
                        "ps": "BOTH",
                        "pa": "1.000",
                        "mt": "CROSSED",
                        "iw": "0",
                        "mp": "90503.10000000",
                        "up": "-9496.90000000",
                        "mm": "402.51550000",
                    }
                ],
            },
        )
    ]
    again, _reply = engine.handle(UpdateMarkPrice("BTCUSDT", 905_000, T0 + 1))
    assert user_updates(again, SYMBOLS, {}) == [], "once per crossing"


def test_funding_goes_out_as_a_funding_fee_account_update_with_the_balance_alone() -> None:
    """The long pays 0.01% of 100,000 (10 USDT), the short receives it."""
    engine = Engine(SYMBOLS, default_leverage=20)
    long_one_btc(engine, TAKER)
    events, _reply = engine.handle(SettleFunding("BTCUSDT", 10_000, T0, T0 + 3))
    updates = dict(user_updates(events, SYMBOLS, {}))
    assert updates[TAKER] == {
        "e": "ACCOUNT_UPDATE",
        "E": T0 + 3,
        "T": T0 + 3,
        "a": {
            "m": "FUNDING_FEE",
            "B": [
                {"a": "USDT", "wb": "9990.00000000", "cw": "9990.00000000", "bc": "-10.00000000"}
            ],
            "P": [],
        },
    }
    assert updates[AccountId(99)]["a"]["B"][0]["bc"] == "10.00000000"
