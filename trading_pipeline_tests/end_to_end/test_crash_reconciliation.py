"""A crash after the broker accepted an order but before the ledger recorded it is reconciled, not resent."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from trading_pipeline.adapters.brokers.base import BrokerOrder
from trading_pipeline.adapters.brokers.paper import PaperBroker
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.defs.resources import PaperBrokerResource
from trading_pipeline_tests.pipeline_harness import (
    ENTRY_SESSION,
    MORNING,
    PipelineHarness,
    asset_metadata,
    make_harness,
    materialized,
)


class SimulatedCrashError(RuntimeError):
    """The process 'dies' right after the broker accepted the order."""


class CrashAfterSendBroker:
    """The paper broker, except that the process crashes once the order is accepted."""

    def __init__(self, broker: PaperBroker) -> None:
        self._broker = broker

    def __getattr__(self, name: str) -> object:
        return getattr(self._broker, name)

    def submit(self, intent: OrderIntent, now: datetime) -> BrokerOrder:
        self._broker.submit(intent, now)
        raise SimulatedCrashError(f"crashed after sending {intent.client_order_id}")


class CrashAfterSendBrokerResource(PaperBrokerResource):
    def broker(self) -> CrashAfterSendBroker:  # type: ignore[override]
        return CrashAfterSendBroker(super().broker())


def _crash_resource(harness: PipelineHarness) -> CrashAfterSendBrokerResource:
    return CrashAfterSendBrokerResource(
        url=harness.broker_url, market=harness.market, config_path=str(harness.config_path)
    )


def test_crash_after_send_leaves_an_unrecorded_order_at_the_broker(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)

    crashed = harness.run_session(ENTRY_SESSION, MORNING, broker=_crash_resource(harness))

    assert not crashed.success
    assert "order_submissions" not in materialized(crashed)
    tables = harness.ledger_tables()
    assert list(tables["order_intents"]["status"]) == [OrderStatus.SUBMITTING.value]
    assert tables["orders"].empty
    assert tables["fills"].empty
    assert tables["positions"].empty
    book = harness.broker_book()
    assert [(row["client_order_id"], row["status"]) for row in book] == [
        (tables["order_intents"].iloc[0]["client_order_id"], OrderStatus.FILLED.value)
    ]


def test_rerun_after_crash_reconciles_the_order_without_sending_it_again(tmp_path: Path) -> None:
    harness = make_harness(tmp_path)
    harness.run_session(ENTRY_SESSION, MORNING, broker=_crash_resource(harness))
    book_before = harness.broker_book()

    rerun = harness.run_session(ENTRY_SESSION, MORNING)

    assert rerun.success
    reconciliation = asset_metadata(rerun, "broker_reconciliation")
    assert (reconciliation["synced_reconciled"], reconciliation["breaks"]) == (1, 0)
    submissions = asset_metadata(rerun, "order_submissions")
    assert (submissions["sent"], submissions["already_recorded"]) == (0, 1)
    assert harness.broker_book() == book_before
    tables = harness.ledger_tables()
    client_order_id = book_before[0]["client_order_id"]
    assert list(tables["order_intents"]["client_order_id"]) == [client_order_id]
    assert list(tables["order_intents"]["status"]) == [OrderStatus.FILLED.value]
    assert list(tables["orders"]["status"]) == [OrderStatus.FILLED.value]
    assert list(tables["orders"]["broker_order_id"]) == [book_before[0]["broker_order_id"]]
    assert len(tables["fills"]) == 1
    assert list(tables["positions"]["position_id"]) == [client_order_id]
    assert list(tables["positions"]["status"]) == ["OPEN"]
