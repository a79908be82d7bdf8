-- expect: same
select customer_id, unnest(list(quantity order by order_id)) as quantity
from orders
where customer_id in (1, 2, 3)
group by customer_id
