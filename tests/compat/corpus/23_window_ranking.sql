-- expect: same
select
    order_id,
    customer_id,
    row_number() over (partition by customer_id order by ordered_at, order_id) as nth_order,
    rank() over (order by quantity) as quantity_rank,
    dense_rank() over (order by quantity) as quantity_dense_rank,
    ntile(4) over (order by order_id) as quartile,
    percent_rank() over (order by order_id) as pct_rank,
    cume_dist() over (order by quantity) as cumulative
from orders
