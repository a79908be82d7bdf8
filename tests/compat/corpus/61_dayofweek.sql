-- expect: compile_error function dayofweek() has no postgres equivalent
select order_id, dayofweek(ordered_at) as dow
from orders
