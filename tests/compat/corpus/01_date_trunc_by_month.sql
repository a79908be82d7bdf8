-- expect: same
-- Monthly and weekly revenue buckets on a TIMESTAMP column.
select
    date_trunc('month', ordered_at) as order_month,
    date_trunc('week', ordered_at) as order_week,
    count(*) as orders,
    sum(amount) as revenue
from orders
group by 1, 2
