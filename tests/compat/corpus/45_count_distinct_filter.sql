-- expect: same
select
    count(*) as orders,
    count(amount) as priced_orders,
    count(distinct customer_id) as customers,
    count(*) filter (where status = 'shipped') as shipped,
    sum(amount) filter (amount > 100) as big_revenue,
    count(distinct status) filter (where quantity > 1) as multi_statuses
from orders
