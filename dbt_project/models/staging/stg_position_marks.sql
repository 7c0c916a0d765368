-- Marks per position and session (unrealized P&L is gross of fees).
select
    session,
    position_id,
    cast(mark_value as decimal(18, 4)) as mark_value,
    cast(unrealized_pnl as decimal(18, 4)) as unrealized_pnl,
    delta,
    gamma,
    vega,
    theta
from {{ source('ledger', 'position_marks') }}
