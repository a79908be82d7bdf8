-- expect: compile_error negative or string subscript has no postgres equivalent
-- DuckDB counts a negative index from the end; Postgres returns NULL.
select customer_id, list(order_id order by ordered_at)[-1] as last_order
from orders
group by customer_id
