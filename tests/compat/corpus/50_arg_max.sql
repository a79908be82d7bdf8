-- expect: compile_error function arg_max() has no postgres equivalent
select customer_id, arg_max(order_id, amount) as biggest_order
from orders
group by customer_id
