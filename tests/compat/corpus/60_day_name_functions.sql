-- expect: compile_error function dayname() has no postgres equivalent
select order_id, dayname(ordered_at) as weekday
from orders
