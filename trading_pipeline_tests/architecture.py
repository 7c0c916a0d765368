"""The asset graph ../shared/ARCHITECTURE.md promises, as the tests expect to find it."""

#: Assets of one NYSE session partition, from market data to P&L.
SESSION_ASSETS = frozenset(
    {
        "underlying_bars",
        "realized_vol",
        "option_chains",
        "implied_vol_history",
        "iv_rank",
        "dealer_gamma_exposure",
        "market_regime",
        "trade_candidates",
        "expirations",
        "broker_reconciliation",
        "working_orders",
        "risk_approved_orders",
        "order_submissions",
        "positions",
        "position_marks",
        "exit_orders",
        "portfolio_risk",
        "early_assignment_risk",
        "portfolio_pnl",
    }
)
#: Ledger tables the snapshot writes to Parquet, one asset each under ledger_snapshot/.
SNAPSHOT_TABLES = (
    "decisions",
    "order_intents",
    "orders",
    "order_events",
    "order_steps",
    "fills",
    "positions",
    "position_marks",
    "stale_marks",
    "iv_observations",
    "reconciliation_breaks",
    "stock_lots",
)
SNAPSHOT_ASSETS = frozenset(f"ledger_snapshot/{table}" for table in SNAPSHOT_TABLES)
DBT_MARTS = frozenset({"daily_pnl", "trades", "strategy_performance"})
