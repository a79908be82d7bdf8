-- expect: same
select
    customer_id,
    list(order_id order by order_id) as order_ids,
    array_agg(status order by order_id) as statuses,
    string_agg(status, ', ' order by order_id) as status_text,
    list(distinct quantity order by quantity) as quantities,
    group_concat(status, '|' order by order_id desc) as reversed_text
from orders
group by customer_id
