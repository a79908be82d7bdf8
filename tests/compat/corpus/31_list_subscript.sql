-- expect: same
-- sqlglot prints array_agg(...)[1], a syntax error in Postgres; the toolkit parenthesises the call.
select
    customer_id,
    list(order_id order by ordered_at)[1] as first_order,
    (list(order_id order by ordered_at))[2] as second_order,
    list(status order by ordered_at)[2:3] as second_and_third_status
from orders
group by customer_id
