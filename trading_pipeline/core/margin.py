"""Buying-power requirements (Reg-T style) for option structures, per structure unit in dollars."""

from __future__ import annotations

from decimal import Decimal

from trading_pipeline.core.instruments import Right, to_money

NAKED_BASE_PCT = Decimal("0.20")
NAKED_MIN_PCT = Decimal("0.10")


def naked_option_requirement(
    right: Right, strike: Decimal, spot: Decimal, premium: Decimal, multiplier: int
) -> Decimal:
    """Reg-T requirement of one short naked option: the larger of 20% of the underlying less the
    out-of-the-money amount, and 10% of the strike (puts) or underlying (calls), plus the premium."""
    otm = max(Decimal(0), strike - spot) if right is Right.CALL else max(Decimal(0), spot - strike)
    base = NAKED_BASE_PCT * spot - otm
    floor = NAKED_MIN_PCT * (spot if right is Right.CALL else strike)
    return to_money((max(base, floor) + premium) * multiplier)


def short_strangle_requirement(
    put_strike: Decimal,
    call_strike: Decimal,
    spot: Decimal,
    put_premium: Decimal,
    call_premium: Decimal,
    multiplier: int,
) -> Decimal:
    """Requirement of a short strangle: the larger side's naked requirement plus the other premium."""
    put_req = naked_option_requirement(Right.PUT, put_strike, spot, put_premium, multiplier)
    call_req = naked_option_requirement(Right.CALL, call_strike, spot, call_premium, multiplier)
    if put_req >= call_req:
        return to_money(put_req + call_premium * multiplier)
    return to_money(call_req + put_premium * multiplier)


def defined_risk_requirement(widths: tuple[Decimal, ...], credit: Decimal, multiplier: int) -> Decimal:
    """Requirement of a credit vertical or an iron condor: the widest side's strike width less the credit
    (only one side of a condor can finish in the money), per structure unit; this is also its max loss."""
    return to_money((max(widths) - credit) * multiplier)
