"""Jobs: the trading session and the position monitor (one NYSE session partition, one execution lane) and
analytics."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import build_dbt_asset_selection

from trading_pipeline.defs.analytics.assets import dbt_analytics
from trading_pipeline.defs.partitions import EXECUTION_LANE, EXECUTION_LANE_TAG

SESSION_GROUPS = ("market_data", "volatility", "regime", "candidates", "risk", "execution", "portfolio")

trading_session_job = dg.define_asset_job(
    name="trading_session_job",
    selection=dg.AssetSelection.groups(*SESSION_GROUPS) | dg.AssetSelection.key_prefixes("ledger_snapshot"),
    executor_def=dg.in_process_executor,
    tags={EXECUTION_LANE_TAG: EXECUTION_LANE},
    description="Market data to orders, positions, exits and P&L for one NYSE session; runs one at a time.",
)

#: The marks-exits-sync stage: the chains marks are taken from, the broker sync and the ladder, then positions
#: to P&L. No asset that opens a position (ENTRY_ASSETS) is selected.
MONITOR_ASSETS = (
    "option_chains",
    "expirations",
    "broker_reconciliation",
    "working_orders",
    "positions",
    "position_marks",
    "exit_orders",
    "portfolio_risk",
    "early_assignment_risk",
    "portfolio_pnl",
)
#: The assets that decide and send new entries.
ENTRY_ASSETS = ("trade_candidates", "risk_approved_orders", "order_submissions")

position_monitor_job = dg.define_asset_job(
    name="position_monitor_job",
    selection=dg.AssetSelection.assets(*MONITOR_ASSETS),
    executor_def=dg.in_process_executor,
    tags={EXECUTION_LANE_TAG: EXECUTION_LANE},
    description="Marks, exits, the limit ladder and broker sync of the open book, no new entries; shares the "
    "session's execution lane, so it never runs beside a session run.",
)

analytics_job = dg.define_asset_job(
    name="analytics_job",
    selection=build_dbt_asset_selection([dbt_analytics]),
    executor_def=dg.in_process_executor,
    description="dbt models over the latest ledger snapshot: daily P&L, trades, strategy performance.",
)

end_of_day_job = dg.define_asset_job(
    name="end_of_day_job",
    selection=dg.AssetSelection.assets("expirations", "broker_reconciliation", "account_balances"),
    executor_def=dg.in_process_executor,
    tags={EXECUTION_LANE_TAG: EXECUTION_LANE},
    description="After the close: settle expired positions, reconcile the broker (which settles its side), "
    "and record the account's balances.",
)
