"""Early-assignment risk of short American calls before an ex-dividend date.

A call holder gains by exercising on the last session before the ex-date when the dividend exceeds what
the call is worth above intrinsic (its extrinsic value): exercising forfeits the extrinsic but collects the
dividend. A short in-the-money call whose extrinsic is below the coming dividend is therefore likely to be
assigned that evening. European (index) options cannot be exercised early and are never flagged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import pandas as pd

from trading_pipeline.core.calendar import next_session, previous_session
from trading_pipeline.core.expirations import on_or_before_session
from trading_pipeline.core.instruments import Leg, is_american
from trading_pipeline.core.positions import Position, PositionStatus

#: By default a dividend counts when it goes ex on the next session (assignment comes tonight).
DEFAULT_WITHIN_SESSIONS = 1


@dataclass(frozen=True)
class EarlyAssignmentRisk:
    """A short in-the-money call likely to be assigned before its ex-dividend date, with the numbers why.

    `extrinsic` is None when the contract had no quote (flagged: the risk cannot be ruled out).
    """

    position_id: str
    occ_symbol: str
    short_contracts: int
    spot: Decimal
    strike: Decimal
    intrinsic: Decimal
    extrinsic: Decimal | None
    dividend: Decimal
    ex_date: date
    reason: str


def next_ex_dividend(dividends: pd.Series, today: date, within_sessions: int) -> tuple[date, Decimal] | None:
    """The first (ex-date, cash amount) after `today` and within `within_sessions` sessions, else None."""
    if within_sessions < 1:
        raise ValueError(f"within_sessions must be >= 1, got {within_sessions}")
    horizon = today
    for _ in range(within_sessions):
        horizon = next_session(horizon)
    ex_dates = pd.to_datetime(dividends.index)
    upcoming = (ex_dates > pd.Timestamp(today)) & (ex_dates <= pd.Timestamp(horizon))
    if not upcoming.any():
        return None
    first = int(upcoming.argmax())
    return ex_dates[first].date(), Decimal(str(dividends.iloc[first]))


def quote_mids(quotes: pd.DataFrame) -> dict[str, Decimal]:
    """Mid price by OCC symbol from a chain or leg quotes (a `mid` column, else the bid/ask average)."""
    mids = quotes["mid"] if "mid" in quotes.columns else (quotes["bid"] + quotes["ask"]) / 2
    return {
        str(symbol): Decimal(str(mid))
        for symbol, mid in zip(quotes["occ_symbol"], mids, strict=True)
        if pd.notna(mid)
    }


def early_assignment_risks(
    positions: Iterable[Position],
    spot_by_underlying: Mapping[str, Decimal | float],
    quotes: pd.DataFrame,
    ex_dividends: Mapping[str, pd.Series],
    today: date,
    within_sessions: int = DEFAULT_WITHIN_SESSIONS,
) -> list[EarlyAssignmentRisk]:
    """Short ITM American calls whose extrinsic value (mid - intrinsic) is below the next dividend.

    `quotes` has `occ_symbol` and `mid` (or `bid`/`ask`); `ex_dividends` holds cash amounts per share by
    ex-date per underlying; a dividend counts when it goes ex within `within_sessions` sessions after `today`
    and the call is still alive on the session before the ex-date.
    """
    mids = quote_mids(quotes)
    risks = []
    for position in positions:
        if position.status is PositionStatus.CLOSED:
            continue
        for leg in position.legs:
            risk = _leg_risk(position, leg, spot_by_underlying, mids, ex_dividends, today, within_sessions)
            if risk is not None:
                risks.append(risk)
    return risks


def _leg_risk(
    position: Position,
    leg: Leg,
    spot_by_underlying: Mapping[str, Decimal | float],
    mids: Mapping[str, Decimal],
    ex_dividends: Mapping[str, pd.Series],
    today: date,
    within_sessions: int,
) -> EarlyAssignmentRisk | None:
    contract = leg.contract
    short_contracts = -leg.signed_ratio * position.quantity
    if short_contracts <= 0 or not contract.is_call or not is_american(contract.root):
        return None
    underlying = position.underlying
    if underlying not in spot_by_underlying:
        raise KeyError(f"no spot for {underlying} to judge {contract.occ_symbol}")
    spot = Decimal(str(spot_by_underlying[underlying]))
    intrinsic = spot - contract.strike
    if intrinsic <= 0:
        return None
    if underlying not in ex_dividends:
        raise KeyError(f"no dividend schedule for {underlying} to judge short call {contract.occ_symbol}")
    upcoming = next_ex_dividend(ex_dividends[underlying], today, within_sessions)
    if upcoming is None:
        return None
    ex_date, dividend = upcoming
    if on_or_before_session(contract.expiration) < previous_session(ex_date):
        return None  # expires before the last cum-dividend session: nothing to exercise for
    symbol = contract.occ_symbol
    mid = mids.get(symbol)
    extrinsic = None if mid is None else mid - intrinsic
    if extrinsic is not None and extrinsic >= dividend:
        return None
    judged = "no quote, extrinsic unknown" if extrinsic is None else f"extrinsic {extrinsic:.2f}"
    reason = (
        f"short {short_contracts} {symbol.replace(' ', '')} is {intrinsic:.2f} in the money with {judged} "
        f"below the {dividend} dividend going ex on {ex_date.isoformat()}: likely assigned before the ex-date"
    )
    return EarlyAssignmentRisk(
        position_id=position.position_id,
        occ_symbol=symbol,
        short_contracts=short_contracts,
        spot=spot,
        strike=contract.strike,
        intrinsic=intrinsic,
        extrinsic=extrinsic,
        dividend=dividend,
        ex_date=ex_date,
        reason=reason,
    )
