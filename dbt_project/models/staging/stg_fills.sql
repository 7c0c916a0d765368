-- Executions with the session (New York date) they happened in.
select
    fill_id,
    client_order_id,
    quantity,
    cast(net_value as decimal(18, 4)) as net_value,
    cast(commission as decimal(18, 4)) as commission,
    filled_at,
    cast(timezone('America/New_York', filled_at) as date) as session
from {{ source('ledger', 'fills') }}
