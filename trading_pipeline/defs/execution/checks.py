"""Reconciliation check: the broker's orders and positions match the ledger (shown red in the UI).

Not blocking on purpose: a break already blocks new entries inside the risk review, while exits of
known positions must still run; a blocking check would stop those too.
"""

import dagster as dg

from trading_pipeline.adapters.brokers.reconciliation import ReconciliationReport
from trading_pipeline.defs.execution.assets import broker_reconciliation
from trading_pipeline.defs.partitions import session_partitions


@dg.asset_check(asset=broker_reconciliation, partitions_def=session_partitions)
def broker_matches_ledger(broker_reconciliation: ReconciliationReport) -> dg.AssetCheckResult:
    """Every broker order and position is explained by the ledger."""
    report = broker_reconciliation
    return dg.AssetCheckResult(
        passed=not report.breaks,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "breaks": len(report.breaks),
            "details": dg.MetadataValue.json(
                [f"{b.kind.value} {b.subject}: {b.detail}" for b in report.breaks]
            ),
        },
    )
