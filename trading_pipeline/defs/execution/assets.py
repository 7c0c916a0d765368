"""Order submission: approved intents go to the broker at most once, through the ledger."""

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.submission import SubmissionResult, submit_idempotently
from trading_pipeline.adapters.notify.base import Notifier, Severity
from trading_pipeline.core.orders import OrderStatus
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
from trading_pipeline.defs.resources import (
    LedgerResource,
    NotifierResource,
    PaperBrokerResource,
    TradingConfigResource,
)
from trading_pipeline.defs.risk.assets import RiskReview


def notify_submissions(notifier: Notifier, title: str, results: list[SubmissionResult]) -> None:
    """Tell people about every order this run sent or reconciled; problems as warnings."""
    for result in results:
        if result.action == "already recorded":
            continue
        severity = Severity.INFO if result.status is OrderStatus.FILLED else Severity.WARNING
        notifier.notify(
            f"{title} {result.status.value}",
            f"{result.client_order_id} {result.action}{': ' + result.message if result.message else ''}",
            severity,
        )


def submissions_table(results: list[SubmissionResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "client_order_id": r.client_order_id,
                "status": r.status.value,
                "action": r.action,
                "message": r.message,
            }
            for r in results
        ]
    )


@dg.asset(partitions_def=session_partitions, group_name="execution", compute_kind="broker")
def order_submissions(
    context: dg.AssetExecutionContext,
    risk_approved_orders: RiskReview,
    ledger: LedgerResource,
    broker: PaperBrokerResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> list[SubmissionResult]:
    """Record each approved intent, reconcile it with the broker, and send it only if still unsent."""
    now = decision_time_of(context, trading_config.load())
    store, client = ledger.ledger(), broker.broker()
    results = [submit_idempotently(intent, store, client, now) for intent in risk_approved_orders.intents]
    notify_submissions(notifier.notifier(), "entry order", results)
    context.add_output_metadata(
        {
            "sent": sum(r.action == "sent" for r in results),
            "reconciled": sum(r.action == "reconciled" for r in results),
            "already_recorded": sum(r.action == "already recorded" for r in results),
            "orders": table_preview(submissions_table(results)),
        }
    )
    return results
