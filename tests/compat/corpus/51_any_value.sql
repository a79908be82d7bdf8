-- expect: compile_error any_value() has no postgres equivalent
select customer_id, any_value(status) as some_status
from orders
group by customer_id
