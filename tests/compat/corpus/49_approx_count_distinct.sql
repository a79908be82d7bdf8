-- expect: compile_error function approx_count_distinct() has no postgres equivalent
select approx_count_distinct(customer_id) as customers
from orders
