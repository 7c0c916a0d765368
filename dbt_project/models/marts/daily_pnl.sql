-- Daily P&L per session: realized (positions closed that session), fees paid that session, and the
-- unrealized P&L of positions still open at the session's mark; cumulative and day-over-day change.
with sessions as (
    select session from {{ ref('stg_position_marks') }}
    union
    select session from {{ ref('stg_fills') }}
),

realized as (
    select closed_session as session, sum(realized_pnl) as realized_pnl
    from {{ ref('stg_positions') }}
    where closed_session is not null
    group by 1
),

fees as (
    select session, sum(commission) as fees
    from {{ ref('stg_fills') }}
    group by 1
),

unrealized as (
    select m.session, sum(m.unrealized_pnl) as unrealized_pnl
    from {{ ref('stg_position_marks') }} as m
    join {{ ref('stg_positions') }} as p on p.position_id = m.position_id
    where p.closed_session is null or p.closed_session > m.session
    group by 1
),

daily as (
    select
        s.session,
        coalesce(r.realized_pnl, 0) as realized_pnl,
        coalesce(f.fees, 0) as fees,
        coalesce(u.unrealized_pnl, 0) as unrealized_pnl
    from sessions as s
    left join realized as r on r.session = s.session
    left join fees as f on f.session = s.session
    left join unrealized as u on u.session = s.session
),

cumulative as (
    select
        *,
        sum(realized_pnl - fees) over (order by session) + unrealized_pnl as cumulative_pnl
    from daily
)

select
    session,
    realized_pnl,
    fees,
    unrealized_pnl,
    cumulative_pnl,
    cumulative_pnl - coalesce(lag(cumulative_pnl) over (order by session), 0) as daily_pnl
from cumulative
order by session
