-- One row per structure-level position; money stays decimal.
select
    position_id,
    strategy,
    underlying,
    quantity,
    cast(entry_value as decimal(18, 4)) as entry_value,
    cast(fees as decimal(18, 4)) as fees,
    cast(realized_pnl as decimal(18, 4)) as realized_pnl,
    status,
    opened_at,
    closed_at,
    cast(timezone('America/New_York', opened_at) as date) as opened_session,
    cast(timezone('America/New_York', closed_at) as date) as closed_session
from {{ source('ledger', 'positions') }}
