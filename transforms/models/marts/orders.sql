-- materialized: incremental
-- unique_key: order_id
-- description: One row per order with its payment; the fact table of the shop.
-- Incremental: each run reads only the orders loaded since the last one (new or changed) and replaces
-- their rows by order_id, so an hourly run costs what changed, not the table's size.
-- tags: mart, finance
select
    o.order_id,
    o.customer_id,
    o.status,
    o.amount,
    p.paid_amount,
    p.payment_method,
    o.ordered_at,
    p.paid_at,
    greatest(o.updated_at, coalesce(p.updated_at, o.updated_at)) as updated_at
from stg_orders as o
left join stg_payments as p on p.order_id = o.order_id
