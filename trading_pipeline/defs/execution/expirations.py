"""Expiration: positions held past their settlement are settled in the ledger before anything else runs."""

from datetime import datetime, timedelta

import dagster as dg
import pandas as pd

from trading_pipeline.adapters.ledger.base import Ledger
from trading_pipeline.adapters.market_data.base import MarketData, MarketDataError
from trading_pipeline.core.account import account_pnl
from trading_pipeline.core.calendar import ET, expiration_datetime
from trading_pipeline.core.positions import Position
from trading_pipeline.core.settlement import (
    ExpirationError,
    ExpirationOutcome,
    SettlementDataError,
    expiration_fill,
    expiration_intent,
    expiration_session,
    expire_position,
    settlement_prices,
)
from trading_pipeline.defs.metadata import table_preview
from trading_pipeline.defs.partitions import decision_time_of, session_partitions
from trading_pipeline.defs.resources import (
    BrokerResource,
    LedgerResource,
    MarketDataResource,
    TradingConfigResource,
)

#: The broker id an expiration fill carries: the OCC settled it, no order of ours did.
SETTLEMENT_BROKER_ID = "occ-settlement"


def due_for_settlement(positions: list[Position], now: datetime) -> list[Position]:
    """Open positions whose legs have all reached their settlement time by `now` (a missed day included)."""
    return [
        p
        for p in positions
        if all(now >= expiration_datetime(leg.contract.expiration, leg.contract.root) for leg in p.legs)
    ]


def settle_expired(
    ledger: Ledger, market: MarketData, now: datetime, refused: dict[str, str] | None = None
) -> list[ExpirationOutcome]:
    """Settle every due position in the ledger (cash at intrinsic, deliveries at the strike, or worthless)
    from the underlying's daily bar of its expiration; a position settled before is left as it is, and one
    that cannot be settled (legs expiring on several days, no bar) is named in `refused`, never blocking
    the others."""
    outcomes = []
    for position in due_for_settlement(ledger.positions(open_only=True, as_of=now), now):
        try:
            session = expiration_session(position)
            bars = market.daily_bars(position.underlying, session - timedelta(days=7), session)
            outcome = expire_position(position, settlement_prices(position, bars), now)
        except (ExpirationError, SettlementDataError, MarketDataError) as exc:
            if refused is not None:
                refused[position.position_id] = str(exc)
            continue
        intent = expiration_intent(position, outcome)
        fill = expiration_fill(outcome, intent.client_order_id, SETTLEMENT_BROKER_ID)
        actions = ", ".join(
            f"{leg.leg.contract.occ_symbol.strip()} {leg.action.value}" for leg in outcome.legs
        )
        if ledger.record_expiration(intent, fill, outcome.deliveries, f"settled at expiration: {actions}"):
            outcomes.append(outcome)
    return outcomes


def outcomes_table(outcomes: list[ExpirationOutcome]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "position_id": o.position_id,
                "expiration": o.expiration.isoformat(),
                "settled_at": o.settled_at.astimezone(ET).strftime("%Y-%m-%d %H:%M ET"),
                "quantity": o.quantity,
                "closing_value": float(o.closing_net_value),
                "actions": ", ".join(sorted({leg.action.value for leg in o.legs})),
                "shares_delivered": sum(d.shares for d in o.deliveries),
                "realized_pnl_net": float(o.net_realized_pnl),
            }
            for o in outcomes
        ],
        columns=[
            "position_id",
            "expiration",
            "settled_at",
            "quantity",
            "closing_value",
            "actions",
            "shares_delivered",
            "realized_pnl_net",
        ],
    )


@dg.asset(partitions_def=session_partitions, group_name="execution", compute_kind="ledger")
def expirations(
    context: dg.AssetExecutionContext,
    ledger: LedgerResource,
    market_data: MarketDataResource,
    trading_config: TradingConfigResource,
) -> list[ExpirationOutcome]:
    """Settle positions held past their expiration before the broker is reconciled: SPX at the open of an
    AM-settled expiration or the close of a PM-settled one, ETF options delivered in the money (100 shares a
    contract at the strike) and worthless out of it; recorded once, as FILLED closes with their fills."""
    now = decision_time_of(context, trading_config.load())
    refused: dict[str, str] = {}
    outcomes = settle_expired(ledger.ledger(), market_data.client(), now, refused)
    if refused:
        context.log.warning(f"{len(refused)} expired position(s) not settled: {refused}")
    context.add_output_metadata(
        {
            "settled_positions": len(outcomes),
            "not_settled": dg.MetadataValue.json(refused),
            "shares_delivered": sum(d.shares for o in outcomes for d in o.deliveries),
            "realized_pnl_net": float(sum(o.net_realized_pnl for o in outcomes)),
            "settlements": table_preview(outcomes_table(outcomes)),
        }
    )
    return outcomes


@dg.asset(
    partitions_def=session_partitions,
    group_name="end_of_day",
    compute_kind="broker",
    deps=["broker_reconciliation"],
)
def account_balances(
    context: dg.AssetExecutionContext,
    ledger: LedgerResource,
    broker: BrokerResource,
    trading_config: TradingConfigResource,
) -> dict[str, float]:
    """The account after the close as the broker values it (cash, net liquidation, option requirement,
    buying power) beside the ledger's equity at its latest marks; the two differ by what the ledger has not
    marked since (and the broker's fill costs, which the ledger books as fees)."""
    config = trading_config.load()
    now = decision_time_of(context, config)
    store = ledger.ledger()
    balances = broker.broker().balances(now)
    pnl = account_pnl(
        store.positions(open_only=False, as_of=now),
        store.latest_marks(as_of=now),
        config.account.starting_equity,
    )
    result = {
        "broker_cash": float(balances.cash),
        "broker_net_liquidation": float(balances.net_liquidation),
        "broker_option_requirement": float(balances.option_requirement),
        "broker_buying_power": float(balances.buying_power),
        "ledger_equity": float(pnl.equity),
    }
    context.add_output_metadata(result)
    return result
