"""Strategy names and the default table of which regime permits which strategy.

The regime classifier knows no strategy: a regime's permissions are configuration (`regime.permissions`),
checked against these names when the configuration loads. Exits are never gated by regime.

| regime         | permitted strategies (default)                        |
|----------------|-------------------------------------------------------|
| bull_calm      | short_strangle, credit_spread, zero_dte, long_options |
| bull_volatile  | short_strangle, credit_spread                         |
| range_calm     | short_strangle, credit_spread, iron_condor, zero_dte  |
| range_volatile | short_strangle, credit_spread, iron_condor            |
| bear_calm      | credit_spread, long_options                           |
| bear_volatile  | credit_spread                                         |
| crisis         | (none)                                                |
"""

from __future__ import annotations

from trading_pipeline.core.regime import RegimeName

SHORT_STRANGLE = "short_strangle"
CREDIT_SPREAD = "credit_spread"
IRON_CONDOR = "iron_condor"
ZERO_DTE = "zero_dte"
LONG_OPTIONS = "long_options"
#: Every strategy name a regime can permit: the registered ones (core/strategies/registry.py) and those
#: the roadmap adds, so a configuration can name them before they trade.
STRATEGY_NAMES = frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR, ZERO_DTE, LONG_OPTIONS})

#: The table of the module docstring; trading_pipeline/config/default.yaml sets the same.
DEFAULT_PERMISSIONS: dict[RegimeName, frozenset[str]] = {
    RegimeName.BULL_CALM: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, ZERO_DTE, LONG_OPTIONS}),
    RegimeName.BULL_VOLATILE: frozenset({SHORT_STRANGLE, CREDIT_SPREAD}),
    RegimeName.RANGE_CALM: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR, ZERO_DTE}),
    RegimeName.RANGE_VOLATILE: frozenset({SHORT_STRANGLE, CREDIT_SPREAD, IRON_CONDOR}),
    RegimeName.BEAR_CALM: frozenset({CREDIT_SPREAD, LONG_OPTIONS}),
    RegimeName.BEAR_VOLATILE: frozenset({CREDIT_SPREAD}),
    RegimeName.CRISIS: frozenset(),
}
