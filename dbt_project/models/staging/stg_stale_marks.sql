-- Marks a position could not take because a leg had no quote: when, and which legs.
select
    session,
    position_id,
    marked_at,
    reason
from {{ source('ledger', 'stale_marks') }}
