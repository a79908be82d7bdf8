-- expect: compile_error function to_days() has no postgres equivalent
select order_id, ordered_at + to_days(quantity) as due_at
from orders
