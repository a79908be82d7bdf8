-- expect: same
select
    order_id,
    customer_id,
    lag(amount) over w as previous_amount,
    lead(amount, 2) over w as amount_after_next,
    lag(amount, 1, 0) over w as previous_or_zero,
    sum(amount) over (partition by customer_id order by order_id
                      rows between unbounded preceding and current row) as running_total,
    avg(amount) over (order by order_id rows between 2 preceding and current row) as moving_avg,
    first_value(order_id) over (partition by customer_id order by order_id) as first_order,
    count(*) over (partition by status) as status_orders
from orders
window w as (order by order_id)
