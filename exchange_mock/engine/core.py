"""The engine: the exchange's one state machine, fed one command at a time.

It is pure (no I/O, no clock: times come on the commands; no randomness), and every change it
makes is described by the events it returns, so replaying the journal rebuilds exactly the same
state after a restart. A refused command returns no events and changes nothing.

A new mark (or collateral price) is also when accounts are liquidated: `watch` finds the ones
it put at or past their maintenance margin, `liquidation` closes them, and their events follow
the mark's in the same command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import assert_never

from exchange_mock.collateral import CollateralSpec
from exchange_mock.domain.commands import (
    CancelAllOrders,
    CancelOrder,
    Command,
    DepositCollateral,
    FundAccount,
    PlaceOrder,
    SeedInsuranceFund,
    SetLeverage,
    UpdateCollateralPrice,
    UpdateMarkPrice,
)
from exchange_mock.domain.events import (
    AccountFunded,
    BalanceChanged,
    CollateralConverted,
    CollateralDeposited,
    CollateralPriceUpdated,
    Event,
    FundFlow,
    InsuranceFundChanged,
    LeverageChanged,
    MarkPriceUpdated,
    OrderAccepted,
    OrderSnapshot,
    OrderUpdated,
    PositionAutoDeleveraged,
    PositionChanged,
    PositionLiquidated,
    TradeExecuted,
)
from exchange_mock.domain.replies import Done, Rejected, Reply
from exchange_mock.engine.admission import (
    FOK_REJECTED,
    MAX_POSITION_REJECTED,
    RESTING,
    admit,
)
from exchange_mock.engine.collateral import CollateralAsset, Holding
from exchange_mock.engine.liquidation import InsuranceFund, LiquidationStats, Liquidator
from exchange_mock.engine.margin import max_notional
from exchange_mock.engine.market import Market
from exchange_mock.engine.matching import Fill, plan
from exchange_mock.engine.orders import Order
from exchange_mock.engine.positions import Account, Position
from exchange_mock.engine.settlement import Settlement
from exchange_mock.engine.watch import Watch
from exchange_mock.errors import Code
from exchange_mock.symbols import SymbolTable
from exchange_mock.types import (
    OPEN_STATUSES,
    PPM,
    AccountId,
    Cash,
    Lots,
    Millis,
    OrderId,
    OrderStatus,
    OrderType,
    Side,
    Ticks,
    TimeInForce,
    TradeId,
)

Outcome = tuple[list[Event], Reply]

_INVALID_SYMBOL = Rejected(Code.BAD_SYMBOL, "Invalid symbol.")
_UNKNOWN_ORDER = Rejected(Code.CANCEL_REJECTED, "Unknown order sent.")
_NO_ORDER_ID = Rejected(
    Code.MANDATORY_PARAM_EMPTY_OR_MALFORMED,
    "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
)
_BAD_AMOUNT = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'amount' is not valid.")
_BAD_ASSET = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'asset' is not valid.")
_BAD_PRICE = Rejected(Code.INVALID_PARAMETER, "Data sent for parameter 'price' is not valid.")


@dataclass(frozen=True, slots=True)
class Audit:
    """Conservation at this instant: Σ balances − Σ position costs + fees + insurance fund ==
    cash seeded; every symbol's positions sum to zero; and each collateral asset's holdings
    (accounts' and the fund's) sum to what was deposited."""

    seeded: Cash
    balances: Cash
    costs: Cash
    fees: Cash
    net_positions: dict[str, Lots]
    insurance_fund: Cash = 0
    collateral_seeded: dict[str, int] = field(default_factory=dict)
    collateral_held: dict[str, int] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        cash = self.balances - self.costs + self.fees + self.insurance_fund
        return (
            cash == self.seeded
            and not any(self.net_positions.values())
            and self.collateral_held == self.collateral_seeded
        )


class Engine:
    def __init__(
        self,
        symbols: SymbolTable,
        default_leverage: int,
        collateral: Sequence[CollateralSpec] = (),
    ) -> None:
        self._markets = {spec.symbol: Market(spec, default_leverage) for spec in symbols.symbols}
        self._assets = {spec.asset: CollateralAsset(spec) for spec in collateral}
        self._accounts: dict[AccountId, Account] = {}
        self._next_order_id = 1
        self._next_trade_id = 1
        self._seeded: Cash = 0
        self._fees: Cash = 0
        self._deposited: dict[str, int] = dict.fromkeys(self._assets, 0)
        self._insurance = InsuranceFund()
        self._stats = {symbol: LiquidationStats() for symbol in self._markets}
        self._watch = Watch(self._markets)
        self._liquidator = Liquidator(
            self._accounts, self._watch, self._insurance, self._stats, executor=self
        )

    # -- the interface ------------------------------------------------------------------------

    def handle(self, command: Command) -> Outcome:
        """Apply one command; return the events it caused (in order) and the reply to its
        sender."""
        match command:
            case PlaceOrder():
                return self._place(command)
            case CancelOrder():
                return self._cancel(command)
            case CancelAllOrders():
                return self._cancel_all(command)
            case FundAccount():
                return self._fund(command)
            case SetLeverage():
                return self._set_leverage(command)
            case UpdateMarkPrice():
                return self._update_mark(command)
            case UpdateCollateralPrice():
                return self._update_collateral_price(command)
            case DepositCollateral():
                return self._deposit(command)
            case SeedInsuranceFund():
                return self._seed_fund(command)
            case _:
                assert_never(command)

    def replay(self, event: Event) -> None:
        """Rebuild state from a journaled event (restart): after replaying every event that
        `handle` produced, the state equals the original's exactly. The liquidation watch
        lists are derived state: they are rebuilt at the next check."""
        self._watch.rebuild = True
        match event:
            case OrderAccepted(order=snapshot):
                self._next_order_id = max(self._next_order_id, snapshot.order_id + 1)
                self._markets[snapshot.symbol].book.update_id += 1
                if snapshot.type is OrderType.LIMIT and snapshot.time_in_force in RESTING:
                    # Rested now, with its fills applied by the OrderUpdated that follows: the
                    # same queue position it took after matching, since nothing else of its
                    # side moves within one command.
                    order = Order.from_snapshot(snapshot)
                    self._position(order.account, snapshot.symbol).rest(order)
            case OrderUpdated(order=snapshot):
                self._next_order_id = max(self._next_order_id, snapshot.order_id + 1)
                self._markets[snapshot.symbol].book.update_id += 1
                self._replay_update(snapshot)
            case TradeExecuted(symbol=symbol, trade_id=trade_id, price=price):
                self._next_trade_id = max(self._next_trade_id, trade_id + 1)
                market = self._markets[symbol]
                market.book.update_id += 1
                market.last_price = price
            case PositionChanged(account=account_id, symbol=symbol, qty=qty, cost=cost):
                position = self._position(account_id, symbol)
                position.qty, position.cost = qty, cost
            case BalanceChanged(account=account_id, balance=balance, fee=fee):
                self._account(account_id).balance = balance
                self._fees += fee
            case AccountFunded(account=account_id, amount=amount, balance=balance):
                self._account(account_id).balance = balance
                self._seeded += amount
            case LeverageChanged(account=account_id, symbol=symbol, leverage=leverage):
                self._apply_leverage(self._position(account_id, symbol), leverage)
            case MarkPriceUpdated(symbol=symbol, price=price):
                self._markets[symbol].mark = price
            case CollateralPriceUpdated(asset=asset, price=price):
                self._assets[asset].reprice(price)
            case CollateralDeposited(account=account_id, asset=asset, amount=amount, balance=held):
                self._account(account_id).holding(self._assets[asset]).amount = held
                self._deposited[asset] += amount
            case CollateralConverted(
                account=account_id, asset=asset, balance=held, fund_balance=kept
            ):
                self._account(account_id).holding(self._assets[asset]).amount = held
                self._fund_holding(asset).amount = kept
            case InsuranceFundChanged(amount=amount, balance=balance, reason=reason):
                self._insurance.cash = balance
                if reason is FundFlow.SEEDED:
                    self._seeded += amount
            case PositionLiquidated(symbol=symbol, notional=notional, deleveraged=lots, ts=ts):
                stats = self._stats[symbol]
                stats.count += 1
                stats.notional += notional
                stats.time = ts
                if lots:
                    stats.deleveraged += 1
                    stats.deleveraged_notional += notional - event.cum_quote
            case PositionAutoDeleveraged():
                pass  # its PositionChanged and BalanceChanged carry the state
            case _:
                assert_never(event)

    def depth(
        self, symbol: str, limit: int
    ) -> tuple[int, list[tuple[Ticks, Lots]], list[tuple[Ticks, Lots]]]:
        """(book update id, bids best first, asks best first) as (price, size) levels."""
        book = self._markets[symbol].book
        return book.update_id, book.bids.depth(limit), book.asks.depth(limit)

    def audit(self) -> Audit:
        balances = costs = 0
        net = dict.fromkeys(self._markets, 0)
        held = {asset: holding.amount for asset, holding in self._insurance.collateral.items()}
        for account in self._accounts.values():
            balances += account.balance
            for symbol, position in account.positions.items():
                costs += position.cost
                net[symbol] += position.qty
            for asset, holding in account.collateral.items():
                held[asset] = held.get(asset, 0) + holding.amount
        return Audit(
            self._seeded,
            balances,
            costs,
            self._fees,
            net,
            self._insurance.cash,
            {asset: amount for asset, amount in self._deposited.items() if amount},
            {asset: amount for asset, amount in held.items() if amount},
        )

    def liquidations(self) -> dict[str, LiquidationStats]:
        """The truth counter, per symbol (copies)."""
        return {
            symbol: LiquidationStats(
                s.count, s.notional, s.time, s.deleveraged, s.deleveraged_notional
            )
            for symbol, s in self._stats.items()
        }

    def insurance_fund(self) -> Cash:
        return self._insurance.cash

    def top(self, symbol: str) -> tuple[Ticks | None, Ticks | None, Ticks | None]:
        """(best bid, best ask, last trade price) of a symbol's book."""
        market = self._markets[symbol]
        book = market.book
        return book.bids.best_price(), book.asks.best_price(), market.last_price

    def liquidation_price(self, account: AccountId, symbol: str) -> Ticks | None:
        """The account's position's liquidation price as the watch list holds it (after
        bringing stale entries up to date); None without a position."""
        self._watch.refresh(self._accounts)
        return self._watch.symbols[symbol].liquidation_price(account)

    def state(self) -> dict[str, object]:
        """Everything a replay must restore, as plain comparable data: the books in priority
        order, the accounts (leaving out those in their initial state), collateral prices, the
        insurance fund, the counters."""
        markets = {
            symbol: {
                "update_id": market.book.update_id,
                "mark": market.mark,
                "last_price": market.last_price,
                "bids": [order.snapshot() for order in market.book.bids.orders()],
                "asks": [order.snapshot() for order in market.book.asks.orders()],
            }
            for symbol, market in self._markets.items()
        }
        accounts: dict[AccountId, object] = {}
        for account_id, account in sorted(self._accounts.items()):
            positions = {
                symbol: (p.qty, p.cost, p.leverage, p.max_notional, p.open_notional, list(p.orders))
                for symbol, p in account.positions.items()
                if p.qty or p.cost or p.orders or p.leverage != p.market.default_leverage
            }
            holdings = {asset: h.amount for asset, h in account.collateral.items() if h.amount}
            if account.balance or positions or holdings:
                accounts[account_id] = (account.balance, positions, holdings)
        return {
            "next_order_id": self._next_order_id,
            "next_trade_id": self._next_trade_id,
            "seeded": self._seeded,
            "fees": self._fees,
            "markets": markets,
            "accounts": accounts,
            "assets": {asset: a.price for asset, a in self._assets.items()},
            "deposited": dict(self._deposited),
            "fund": (
                self._insurance.cash,
                {a: h.amount for a, h in self._insurance.collateral.items() if h.amount},
            ),
            "liquidations": self.liquidations(),
        }

    # -- orders ---------------------------------------------------------------------------------

    def _place(self, command: PlaceOrder) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        account = self._account(command.account)
        position = account.position(market)
        makers = market.book.side(command.side.opposite)
        rejected = admit(command, market, account, position, makers)
        if rejected is not None:
            return [], rejected
        limit = command.type is OrderType.LIMIT
        taker = Order(
            OrderId(self._next_order_id),
            command.client_order_id,
            command.account,
            command.symbol,
            command.side,
            command.type,
            command.time_in_force,
            command.price if limit else None,
            command.qty,
            command.reduce_only,
            command.ts,
        )
        fills: list[Fill] = []
        if taker.price is None or makers.crosses(taker.price):
            accounts, symbol = self._accounts, command.symbol
            fills = plan(makers, taker, lambda owner: accounts[owner].positions[symbol].qty)
        tif = command.time_in_force if limit else None
        if tif is TimeInForce.FOK and sum(fill.lots for fill in fills) < taker.qty:
            return [], FOK_REJECTED
        self._next_order_id += 1
        return self._execute(market, account, position, taker, fills, tif in RESTING)

    def _execute(
        self,
        market: Market,
        account: Account,
        position: Position,
        taker: Order,
        fills: list[Fill],
        can_rest: bool,
        taker_fee_ppm: int | None = None,
    ) -> Outcome:
        """Apply a matching plan; rest or expire what is left of the taker."""
        accepted = taker.snapshot()
        fee_ppm = market.taker_fee_ppm if taker_fee_ppm is None else taker_fee_ppm
        trades, account_events, makers = (
            self._fill(market, account, position, taker, fills, fee_ppm) if fills else ([], [], [])
        )
        rests = can_rest and taker.remaining > 0
        if rests:
            position.rest(taker)
        elif taker.remaining:
            taker.close(OrderStatus.EXPIRED, taker.time)
        changed = bool(trades) or not rests
        final = taker.snapshot() if changed else accepted
        events: list[Event] = [OrderAccepted(accepted), *trades]
        events += account_events
        events += [OrderUpdated(snapshot) for snapshot in makers]
        if changed:
            events.append(OrderUpdated(final))
        market.book.update_id += len(events) - len(account_events)
        return events, Done((final, *makers))

    def _fill(
        self,
        market: Market,
        account: Account,
        position: Position,
        taker: Order,
        fills: list[Fill],
        taker_fee_ppm: int,
    ) -> tuple[list[Event], list[Event], list[OrderSnapshot]]:
        """Trade the taker against each planned maker: the trades, the accounts' resulting
        position and balance events, and the makers' final snapshots."""
        ts = taker.time
        symbol = market.symbol
        unit = market.unit
        trades: list[Event] = []
        makers: list[OrderSnapshot] = []
        settlement = Settlement()
        for maker, lots, expires in fills:
            maker_account = self._accounts[maker.account]
            maker_position = maker_account.positions[symbol]
            if lots:
                price = maker.price
                assert price is not None
                notional = price * lots * unit
                trade_id = TradeId(self._next_trade_id)
                self._next_trade_id += 1
                trades.append(
                    TradeExecuted(
                        symbol,
                        trade_id,
                        price,
                        lots,
                        taker.side,
                        taker.id,
                        maker.id,
                        taker.account,
                        maker.account,
                        ts,
                    )
                )
                settlement.settle(
                    account,
                    position,
                    taker.sign * lots,
                    price,
                    notional * taker_fee_ppm // PPM,
                )
                settlement.settle(
                    maker_account,
                    maker_position,
                    maker.sign * lots,
                    price,
                    notional * market.maker_fee_ppm // PPM,
                )
                taker.fill(lots, notional, ts)
                maker_position.shrink(maker, lots)
                maker.fill(lots, notional, ts)
                market.last_price = price
            if expires or not maker.remaining:
                maker_position.remove(maker)
                if maker.remaining:
                    maker.close(OrderStatus.EXPIRED, ts)
            makers.append(maker.snapshot())
        self._fees += settlement.fees
        self._watch.stale.update(settlement.accounts())
        return trades, settlement.events(symbol, ts), makers

    def _cancel(self, command: CancelOrder) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        if command.order_id is None and command.client_order_id is None:
            return [], _NO_ORDER_ID
        position = self._existing_position(command.account, command.symbol)
        if position is None:
            return [], _UNKNOWN_ORDER
        if command.order_id is not None:
            order = position.orders.get(command.order_id)
        else:
            order = next(
                (o for o in position.orders.values() if o.client_id == command.client_order_id),
                None,
            )
        if order is None:
            return [], _UNKNOWN_ORDER
        return self._cancel_orders(market, position, [order], command.ts)

    def _cancel_all(self, command: CancelAllOrders) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        position = self._existing_position(command.account, command.symbol)
        if position is None:
            return [], Done()
        return self._cancel_orders(market, position, list(position.orders.values()), command.ts)

    def _cancel_orders(
        self, market: Market, position: Position, orders: list[Order], ts: Millis
    ) -> Outcome:
        snapshots = []
        for order in orders:
            position.remove(order)
            order.close(OrderStatus.CANCELED, ts)
            snapshots.append(order.snapshot())
        market.book.update_id += len(snapshots)
        return [OrderUpdated(snapshot) for snapshot in snapshots], Done(tuple(snapshots))

    # -- accounts and marks ---------------------------------------------------------------------

    def _fund(self, command: FundAccount) -> Outcome:
        if command.amount <= 0:
            return [], _BAD_AMOUNT
        account = self._account(command.account)
        account.balance += command.amount
        self._seeded += command.amount
        self._watch.stale.add(account.id)
        return [AccountFunded(account.id, command.amount, account.balance, command.ts)], Done()

    def _set_leverage(self, command: SetLeverage) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        if not 1 <= command.leverage <= market.max_leverage:
            return [], Rejected(Code.INVALID_LEVERAGE, f"Leverage {command.leverage} is not valid")
        position = self._position(command.account, command.symbol)
        mark = market.mark_price()
        cap = max_notional(market.spec, command.leverage)
        if position.qty and mark is not None and abs(mark * position.qty * market.unit) > cap:
            return [], MAX_POSITION_REJECTED
        self._apply_leverage(position, command.leverage)
        event = LeverageChanged(command.account, command.symbol, command.leverage, command.ts)
        return [event], Done()

    def _update_mark(self, command: UpdateMarkPrice) -> Outcome:
        market = self._markets.get(command.symbol)
        if market is None:
            return [], _INVALID_SYMBOL
        if command.price <= 0:
            return [], _BAD_PRICE
        market.mark = command.price
        events: list[Event] = [
            MarkPriceUpdated(
                command.symbol, command.price, command.ts, command.index, command.funding_rate
            )
        ]
        self._watch.mark_moved(command.symbol)
        events += self._liquidate_due(command.symbol, command.ts)
        return events, Done()

    def _update_collateral_price(self, command: UpdateCollateralPrice) -> Outcome:
        asset = self._assets.get(command.asset)
        if asset is None:
            return [], _BAD_ASSET
        if command.price < 0:
            return [], _BAD_PRICE
        asset.reprice(command.price)
        events: list[Event] = [
            CollateralPriceUpdated(asset.asset, command.price, asset.haircut_ppm, command.ts)
        ]
        watch = self._watch
        watch.repriced(asset.asset)
        watch.refresh(self._accounts)
        for account_id in sorted(watch.holders.get(asset.asset, ())):
            account = self._accounts[account_id]
            if self._liquidator.due(account):
                events += self._liquidator.liquidate(account, command.ts)
                watch.refresh(self._accounts)
        return events, Done()

    def _liquidate_due(self, symbol: str, ts: Millis) -> list[Event]:
        """Liquidate, most underwater first, every account the symbol's mark put at or past
        its maintenance margin, re-reading the watch list after each (a liquidation moves its
        counterparties' margin). An account is taken at most once per mark."""
        market, watch = self._markets[symbol], self._watch
        listed = watch.symbols[symbol]
        mark = market.mark_price()
        assert mark is not None
        events: list[Event] = []
        done: set[AccountId] = set()
        while True:
            watch.refresh(self._accounts)
            account_id = next((a for a in listed.due(mark) if a not in done), None)
            if account_id is None:
                return events
            done.add(account_id)
            events += self._liquidator.liquidate(self._accounts[account_id], ts)

    def _deposit(self, command: DepositCollateral) -> Outcome:
        asset = self._assets.get(command.asset)
        if asset is None:
            return [], _BAD_ASSET
        if command.amount <= 0:
            return [], _BAD_AMOUNT
        account = self._account(command.account)
        holding = account.holding(asset)
        holding.amount += command.amount
        self._deposited[asset.asset] += command.amount
        self._watch.stale.add(account.id)
        event = CollateralDeposited(
            account.id, asset.asset, command.amount, holding.amount, command.ts
        )
        return [event], Done()

    def _seed_fund(self, command: SeedInsuranceFund) -> Outcome:
        if command.amount <= 0:
            return [], _BAD_AMOUNT
        self._insurance.cash += command.amount
        self._seeded += command.amount
        event = InsuranceFundChanged(
            command.amount, self._insurance.cash, FundFlow.SEEDED, None, command.ts
        )
        return [event], Done()

    # -- what liquidation asks of the order flow ------------------------------------------------

    def cancel_every_order(self, account: Account, ts: Millis) -> list[Event]:
        """Cancel the account's open orders on every symbol (the first step of liquidation)."""
        events: list[Event] = []
        for symbol in sorted(account.positions):
            position = account.positions[symbol]
            if position.orders:
                orders = list(position.orders.values())
                cancelled, _ = self._cancel_orders(self._markets[symbol], position, orders, ts)
                events += cancelled
        return events

    def liquidation_order(
        self,
        market: Market,
        account: Account,
        position: Position,
        side: Side,
        qty: Lots,
        price: Ticks,
        ts: Millis,
    ) -> tuple[list[Event], OrderSnapshot]:
        """An IOC LIQUIDATION order for the account, into the book at `price` or better, with
        no taker fee (the clearance fee replaces it); its events and final state."""
        order_id = self._next_order_id
        self._next_order_id += 1
        taker = Order(
            OrderId(order_id),
            f"autoclose-{order_id}",
            account.id,
            market.symbol,
            side,
            OrderType.LIQUIDATION,
            TimeInForce.IOC,
            price,
            qty,
            True,
            ts,
        )
        makers = market.book.side(side.opposite)
        fills: list[Fill] = []
        if makers.crosses(price):
            accounts, symbol = self._accounts, market.symbol
            fills = plan(makers, taker, lambda owner: accounts[owner].positions[symbol].qty)
        events, _ = self._execute(market, account, position, taker, fills, False, 0)
        return events, taker.snapshot()

    # -- replay and lookups ------------------------------------------------------------------

    def _replay_update(self, snapshot: OrderSnapshot) -> None:
        position = self._existing_position(snapshot.account, snapshot.symbol)
        order = None if position is None else position.orders.get(snapshot.order_id)
        if position is None or order is None:
            return  # never rested: an order that expired or filled on arrival
        remaining = snapshot.qty - snapshot.executed_qty
        if snapshot.status in OPEN_STATUSES:
            position.shrink(order, order.remaining - remaining)
        else:
            position.remove(order)
        order.restore(snapshot)

    def _apply_leverage(self, position: Position, leverage: int) -> None:
        position.leverage = leverage
        position.max_notional = max_notional(position.market.spec, leverage)

    def _fund_holding(self, asset: str) -> Holding:
        holding = self._insurance.collateral.get(asset)
        if holding is None:
            holding = self._insurance.collateral[asset] = Holding(self._assets[asset])
        return holding

    def _account(self, account_id: AccountId) -> Account:
        account = self._accounts.get(account_id)
        if account is None:
            account = self._accounts[account_id] = Account(account_id)
        return account

    def _position(self, account_id: AccountId, symbol: str) -> Position:
        return self._account(account_id).position(self._markets[symbol])

    def _existing_position(self, account_id: AccountId, symbol: str) -> Position | None:
        account = self._accounts.get(account_id)
        return None if account is None else account.positions.get(symbol)
