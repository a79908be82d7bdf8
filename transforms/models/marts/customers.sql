-- materialized: table
-- description: One row per customer with order counts and lifetime value.
-- tags: mart, crm
with order_stats as (
    select
        customer_id,
        count(*) as order_count,
        sum(amount) filter (where status <> 'cancelled') as lifetime_value,
        min(ordered_at) as first_order_at,
        max(ordered_at) as last_order_at,
        max(updated_at) as last_order_update
    from orders
    group by customer_id
)
select
    c.customer_id,
    c.customer_name,
    c.country,
    c.tier,
    coalesce(s.order_count, 0) as order_count,
    coalesce(s.lifetime_value, 0) as lifetime_value,
    s.first_order_at,
    s.last_order_at,
    greatest(c.updated_at, coalesce(s.last_order_update, c.updated_at)) as updated_at
from stg_customers as c
left join order_stats as s on s.customer_id = c.customer_id
