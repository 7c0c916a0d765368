"""Execution: settle expirations, reconcile with the broker, step resting orders, then send approved
intents at most once, through the ledger."""

from datetime import datetime

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.brokers.base import Broker
from trading_pipeline.adapters.brokers.ladder import LadderResult, work_ladders
from trading_pipeline.adapters.brokers.reconciliation import ReconciliationReport, reconcile
from trading_pipeline.adapters.brokers.submission import (
    SubmissionAction,
    SubmissionResult,
    submit_each,
    submit_idempotently,
)
from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.adapters.notify.base import Notifier, Severity
from trading_pipeline.core.orders import OrderIntent, OrderStatus
from trading_pipeline.defs.execution.expirations import account_balances, expirations
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
from trading_pipeline.defs.resources import (
    BrokerResource,
    ExecutionGuardResource,
    LedgerResource,
    NotifierResource,
    TradingConfigResource,
)
from trading_pipeline.defs.risk.assets import RiskReview


def notify_submissions(notifier: Notifier, title: str, results: list[SubmissionResult]) -> None:
    """Tell people about every order this run sent, reconciled or held; problems as warnings."""
    for result in results:
        if result.action is SubmissionAction.ALREADY_RECORDED:
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
                "action": r.action.value,
                "message": r.message,
            }
            for r in results
        ],
        columns=["client_order_id", "status", "action", "message"],
    )


def action_counts(results: list[SubmissionResult]) -> dict[str, int]:
    """How many intents met each submission action (metadata keys: sent, reconciled, ...)."""
    return {
        action.value.replace(" ", "_"): sum(r.action is action for r in results)
        for action in SubmissionAction
    }


def send_intents(
    intents: list[OrderIntent],
    ledger: Ledger,
    broker: Broker,
    now: datetime,
    run_id: str,
    guard: ExecutionGuardResource,
) -> list[SubmissionResult]:
    """Submit each recorded intent under this run's claim, unless the guard holds it; every intent is
    tried even when one fails."""
    return submit_each(
        intents,
        lambda intent: submit_idempotently(
            intent, ledger, broker, now, claimant=run_id, hold_reason=guard.hold_reason(intent.decision_time)
        ),
    )


@dg.asset(
    partitions_def=session_partitions, group_name="execution", compute_kind="broker", deps=[expirations]
)
def broker_reconciliation(
    context: dg.AssetExecutionContext,
    ledger: LedgerResource,
    broker: BrokerResource,
    notifier: NotifierResource,
    trading_config: TradingConfigResource,
) -> ReconciliationReport:
    """Once the ledger has settled expired positions (upstream), sync unfinished orders and compare the
    broker's orders and positions with the ledger before anything new is decided; unexplained differences
    are recorded, alerted, and block entries."""
    now = decision_time_of(context, trading_config.load())
    report = reconcile(ledger.ledger(), broker.broker(), now)
    for found in report.breaks:
        notifier.notifier().notify(
            f"reconciliation break: {found.kind.value}",
            f"{found.subject}: {found.detail} (new entries blocked)",
            Severity.CRITICAL,
        )
    context.add_output_metadata(
        {
            "breaks": len(report.breaks),
            "entries_blocked": report.blocks_entries,
            "pending_claims": len(report.pending),
            **{f"synced_{k}": v for k, v in action_counts(list(report.synced)).items() if v},
            "break_details": dg.MetadataValue.json(
                [{"kind": b.kind.value, "subject": b.subject, "detail": b.detail} for b in report.breaks]
            ),
            "synced": table_preview(submissions_table(list(report.synced))),
        }
    )
    return report


def ladder_table(results: list[LadderResult]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "client_order_id": r.client_order_id,
                "move": r.move,
                "step": r.step,
                "status": r.status.value,
                "reason": r.reason,
            }
            for r in results
        ],
        columns=["client_order_id", "move", "step", "status", "reason"],
    )


@dg.asset(partitions_def=session_partitions, group_name="execution", compute_kind="broker")
def working_orders(
    context: dg.AssetExecutionContext,
    broker_reconciliation: ReconciliationReport,
    option_chains: pd.DataFrame,
    ledger: LedgerResource,
    broker: BrokerResource,
    execution_guard: ExecutionGuardResource,
    trading_config: TradingConfigResource,
) -> list[LadderResult]:
    """Walk every resting order's limit toward natural once its wait is over, and cancel it after its last
    step or at the cut-off before the close; each step claimed in the ledger before the broker is asked."""
    del broker_reconciliation  # ordering only: the broker's orders are synced before they are stepped
    config = trading_config.load()
    now = decision_time_of(context, config)
    ladder = config.execution.ladder
    hold = execution_guard.hold_reason(now) or (None if ladder.enabled else "the ladder is disabled")
    results = work_ladders(
        ledger.ledger(),
        broker.broker(),
        option_chains,
        now,
        config.execution.ladder_params,
        context.run.run_id,
        hold_reason=hold,
    )
    moves = {move: sum(r.move == move for r in results) for move in ("wait", "step", "cancel", "in flight")}
    context.add_output_metadata(
        {
            "working": len(results),
            **{f"ladder_{move.replace(' ', '_')}": count for move, count in moves.items()},
            "ladder": table_preview(ladder_table(results)),
        }
    )
    return results


@dg.asset(partitions_def=session_partitions, group_name="execution", compute_kind="broker")
def order_submissions(
    context: dg.AssetExecutionContext,
    risk_approved_orders: RiskReview,
    working_orders: list[LadderResult],
    ledger: LedgerResource,
    broker: BrokerResource,
    notifier: NotifierResource,
    execution_guard: ExecutionGuardResource,
    trading_config: TradingConfigResource,
) -> list[SubmissionResult]:
    """Claim each approved intent and send it only if this run won the claim; others reconcile."""
    del working_orders  # ordering only: resting orders are stepped before new ones are sent
    now = decision_time_of(context, trading_config.load())
    store, client = ledger.ledger(), broker.broker()
    results = send_intents(
        list(risk_approved_orders.intents), store, client, now, context.run.run_id, execution_guard
    )
    notify_submissions(notifier.notifier(), "entry order", results)
    context.add_output_metadata(
        {**action_counts(results), "orders": table_preview(submissions_table(results))}
    )
    return results


__all__ = ["account_balances", "broker_reconciliation", "expirations", "order_submissions", "working_orders"]
