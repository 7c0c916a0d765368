"""A position whose leg has no quote is stale: its last good mark stands, the ledger flags the tick, one
warning says so, and the rest of the book is marked and exited as usual."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from trading_pipeline.adapters.brokers.base import BrokerOrder, BrokerPosition
from trading_pipeline.adapters.ledger.repository import SqlLedger
from trading_pipeline.adapters.notify.base import Severity
from trading_pipeline.core.chain import enrich_chain
from trading_pipeline.core.instruments import Leg, OptionContract, Right, Side
from trading_pipeline.core.orders import OrderIntent, OrderStatus, PositionEffect
from trading_pipeline.core.positions import Position, PositionMark, StaleMark
from trading_pipeline.defs.partitions import DECISION_TIME_TAG, session_partitions
from trading_pipeline.defs.portfolio.assets import exit_orders, portfolio_risk, position_marks
from trading_pipeline.defs.resources import (
    BrokerResource,
    ExecutionGuardResource,
    LedgerResource,
    NotifierResource,
    TradingConfigResource,
)
from trading_pipeline_tests.adapters.ledger.builders import EXPIRATION, SESSION, fill_of, opening_intent
from trading_pipeline_tests.core.chain_builders import CARRY, quote_chain

#: 16 days before the legs' expiration: the 21-DTE exit fires for every position that can be priced.
TICK_SESSION = date(2025, 4, 1)
TICK = datetime(2025, 4, 1, 14, 0, tzinfo=UTC)  # 10:00 EDT
EARLIER_TICK = TICK - timedelta(days=1)
SPOT = 570.0


class FileNotifier:
    """Appends each notification to a JSON-lines file, so a test can read what was said."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def notify(self, subject: str, body: str, severity: Severity = Severity.INFO) -> None:
        with self.path.open("a") as handle:
            handle.write(json.dumps({"subject": subject, "body": body, "severity": severity.value}) + "\n")


class FileNotifierResource(NotifierResource):
    path: str

    def notifier(self) -> FileNotifier:  # type: ignore[override]
        return FileNotifier(Path(self.path))


class AcceptingBroker:
    """Acknowledges every order and fills nothing."""

    name = "accepting"

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        return BrokerOrder(f"B-{intent.client_order_id}", intent.client_order_id, OrderStatus.SUBMITTED)

    def find_order(self, client_order_id: str) -> BrokerOrder | None:
        return None

    def orders(self) -> list[BrokerOrder]:
        return []

    def positions(self) -> list[BrokerPosition]:
        return []

    def advance(self, now: datetime) -> None:
        """Nothing it accepted ever fills."""


class AcceptingBrokerResource(BrokerResource):
    def broker(self) -> AcceptingBroker:  # type: ignore[override]
        return AcceptingBroker()


def _strangle(put: str, call: str) -> tuple[Leg, ...]:
    return (
        Leg(OptionContract("SPY", EXPIRATION, Decimal(put), Right.PUT), Side.SELL),
        Leg(OptionContract("SPY", EXPIRATION, Decimal(call), Right.CALL), Side.SELL),
    )


def _open(ledger: SqlLedger, key: str, legs: tuple[Leg, ...]) -> str:
    intent = replace(opening_intent(key=key), legs=legs)
    ledger.record_intent(intent)
    ledger.record_fill(fill_of(intent, f"F-{key}", quantity=2, net_value="-2.40"))
    return intent.client_order_id


@pytest.fixture
def book(sqlite_url: str) -> tuple[SqlLedger, str, str]:
    """(ledger, stale position id, markable position id): two strangles opened, the first marked before."""
    ledger = SqlLedger.open(sqlite_url)
    stale_id = _open(ledger, "stale", _strangle("540", "600.5"))
    markable_id = _open(ledger, "markable", _strangle("545", "605"))
    earlier = PositionMark(stale_id, EARLIER_TICK, Decimal("-1.90"), Decimal("100"), 1.5, -0.2, -30.0, 8.0)
    ledger.record_marks(SESSION, [earlier])
    yield ledger, stale_id, markable_id
    ledger.dispose()


def _chain_without(symbol: str) -> pd.DataFrame:
    """The tick's enriched chain of both strangles' strikes, `symbol` not quoted."""
    quotes = quote_chain(TICK, dtes=(16,), strikes=(540, 545, 600.5, 605), spot=SPOT)
    return enrich_chain(quotes[quotes["occ_symbol"] != symbol].reset_index(drop=True), TICK, CARRY)


def _run_tick(
    ledger: SqlLedger, sqlite_url: str, chain: pd.DataFrame, log: Path
) -> dg.ExecuteInProcessResult:
    open_positions = ledger.positions(open_only=True, as_of=TICK)

    @dg.asset(name="positions", partitions_def=session_partitions)
    def stub_positions() -> list[Position]:
        return open_positions

    @dg.asset(name="option_chains", partitions_def=session_partitions)
    def stub_chain() -> pd.DataFrame:
        return chain

    return dg.materialize(
        [stub_positions, stub_chain, position_marks, exit_orders, portfolio_risk],
        partition_key=TICK_SESSION.isoformat(),
        tags={DECISION_TIME_TAG: TICK.isoformat()},
        resources={
            "ledger": LedgerResource(url=sqlite_url),
            "broker": AcceptingBrokerResource(),
            "notifier": FileNotifierResource(path=str(log)),
            "execution_guard": ExecutionGuardResource(env="sim"),
            "trading_config": TradingConfigResource(),
        },
    )


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, object]:
    [materialization] = result.asset_materializations_for_node(asset)
    return {key: value.value for key, value in materialization.metadata.items()}


def _stale_warnings(log: Path) -> list[dict[str, str]]:
    """The warnings about stale positions (exit orders that did not fill are warned about too)."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [
        message
        for message in map(json.loads, lines)
        if message["severity"] == Severity.WARNING.value and "stale" in message["subject"]
    ]


def test_a_position_with_an_unquoted_leg_is_stale_while_the_rest_of_the_book_is_marked_and_exited(
    book: tuple[SqlLedger, str, str], sqlite_url: str, tmp_path: Path
) -> None:
    # Arrange: the stale strangle's 600.5 call is not quoted at this tick
    ledger, stale_id, markable_id = book
    missing = _strangle("540", "600.5")[1].contract.occ_symbol
    log = tmp_path / "notifications.jsonl"

    # Act
    result = _run_tick(ledger, sqlite_url, _chain_without(missing), log)

    # Assert: the tick ran; the stale position is flagged with why, its last good mark stands
    assert result.success
    assert ledger.stale_marks(marked_at=TICK) == [StaleMark(stale_id, TICK, f"no quote for {missing}")]
    latest = {m.position_id: m for m in ledger.latest_marks(as_of=TICK)}
    assert (latest[stale_id].marked_at, latest[stale_id].mark_value) == (EARLIER_TICK, Decimal("-1.90"))
    assert latest[markable_id].marked_at == TICK
    # only the markable position gets an exit decision (its 21-DTE exit), sent to the broker
    closes = [intent for intent, _ in ledger.intents() if intent.effect is PositionEffect.CLOSE]
    assert [intent.position_id for intent in closes] == [markable_id]
    exits = _metadata(result, "exit_orders")
    assert exits["exits"] == 1 and exits["stale_positions"] == 1
    assert "no exit decision this tick" in exits["stale"][stale_id]  # type: ignore[index]
    # the UI shows the stale position with its last good mark
    marks = _metadata(result, "position_marks")
    assert (marks["positions"], marks["marked_positions"], marks["stale_positions"]) == (2, 1, 1)
    assert stale_id in str(marks["stale"]) and EARLIER_TICK.isoformat() in str(marks["stale"])
    assert _metadata(result, "portfolio_risk")["stale_positions_not_in_greeks"] == 1
    # one warning names the stale position and says it gets no exit decision
    [warning] = _stale_warnings(log)
    assert stale_id in warning["body"] and missing in warning["body"]
    assert "no exit decision this tick" in warning["body"]


def test_a_rerun_of_a_stale_tick_warns_nobody_twice(
    book: tuple[SqlLedger, str, str], sqlite_url: str, tmp_path: Path
) -> None:
    # Arrange
    ledger, stale_id, _ = book
    chain = _chain_without(_strangle("540", "600.5")[1].contract.occ_symbol)
    log = tmp_path / "notifications.jsonl"
    _run_tick(ledger, sqlite_url, chain, log)

    # Act
    result = _run_tick(ledger, sqlite_url, chain, log)

    # Assert
    assert result.success
    assert len(_stale_warnings(log)) == 1
    assert [mark.position_id for mark in ledger.stale_marks()] == [stale_id]


def test_a_leg_with_unsolvable_iv_is_marked_at_mid_with_its_greeks_unknown(
    book: tuple[SqlLedger, str, str], sqlite_url: str, tmp_path: Path
) -> None:
    # Arrange: every contract is quoted, but the markable strangle's put has no IV (so no greeks)
    ledger, stale_id, markable_id = book
    chain = _chain_without("none")
    put = _strangle("545", "605")[0].contract.occ_symbol
    chain.loc[chain["occ_symbol"] == put, ["iv", "delta", "gamma", "vega", "theta"]] = float("nan")

    # Act
    result = _run_tick(ledger, sqlite_url, chain, tmp_path / "notifications.jsonl")

    # Assert: both marked at this tick; the unknown greeks stay unknown and are left out of the totals
    assert result.success
    latest = {m.position_id: m for m in ledger.latest_marks(as_of=TICK)}
    assert {m.marked_at for m in latest.values()} == {TICK}
    assert latest[markable_id].mark_value < 0
    assert pd.isna(latest[markable_id].delta) and not pd.isna(latest[stale_id].delta)
    risk = _metadata(result, "portfolio_risk")
    assert risk["positions_with_unknown_greeks"] == 1
    assert risk["portfolio_delta"] == pytest.approx(latest[stale_id].delta)
