-- expect: same
select o.order_id, o.customer_id
from orders o
anti join customers c on c.customer_id = o.customer_id
