-- One row per trade (position): entry, exit, holding period and net P&L.
select
    p.position_id,
    p.strategy,
    p.underlying,
    p.opened_session,
    p.closed_session,
    p.entry_value,
    p.status,
    p.realized_pnl,
    p.fees,
    p.realized_pnl - p.fees as net_realized_pnl,
    case when p.closed_session is not null then p.closed_session - p.opened_session end as days_held
from {{ ref('stg_positions') }} as p
