-- Per strategy: trades, closed trades, win rate and net realized P&L.
select
    strategy,
    count(*) as trades,
    count(closed_session) as closed_trades,
    sum(case when closed_session is not null and net_realized_pnl > 0 then 1 else 0 end) as winners,
    case when count(closed_session) > 0
        then sum(case when closed_session is not null and net_realized_pnl > 0 then 1 else 0 end)
            * 1.0 / count(closed_session)
    end as win_rate,
    sum(case when closed_session is not null then net_realized_pnl else 0 end) as net_realized_pnl,
    avg(days_held) as avg_days_held
from {{ ref('trades') }}
group by strategy
