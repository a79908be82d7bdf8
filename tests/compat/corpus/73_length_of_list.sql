-- expect: differs len() of a list becomes LENGTH(), which Postgres has for strings only
select customer_id, len(list(order_id)) as orders
from orders
group by customer_id
