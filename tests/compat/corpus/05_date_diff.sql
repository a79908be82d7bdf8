-- expect: same
select
    order_id,
    date_diff('day', ordered_at, shipped_at) as days,
    datediff('hour', ordered_at, shipped_at) as hours,
    date_diff('minute', ordered_at, shipped_at) as minutes,
    date_diff('month', ordered_at, shipped_at + interval 40 day) as months,
    date_diff('quarter', ordered_at, shipped_at + interval 100 day) as quarters,
    date_diff('year', ordered_at, shipped_at + interval 300 day) as years
from orders
