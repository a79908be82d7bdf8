-- materialized: table
-- description: Revenue per day from orders that were not cancelled.
-- tags: mart, finance
select
    date_trunc('day', ordered_at) as order_date,
    count(*) as orders,
    count(distinct customer_id) as customers,
    sum(amount) as revenue,
    max(updated_at) as updated_at
from orders
where status <> 'cancelled'
group by date_trunc('day', ordered_at)
