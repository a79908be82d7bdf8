-- expect: compile_error round(x, digits) of a value not cast to DECIMAL
select customer_id, round(score, 1) as score_1dp
from customers
