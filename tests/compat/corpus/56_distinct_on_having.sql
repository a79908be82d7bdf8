-- expect: same
select distinct on (customer_id) customer_id, order_id, amount
from orders
where customer_id in (
    select customer_id from orders group by customer_id having count(*) >= 3
)
order by customer_id, amount desc nulls last, order_id
