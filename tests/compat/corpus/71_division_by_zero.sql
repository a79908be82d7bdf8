-- expect: differs DuckDB divides by zero to infinity or NULL, Postgres raises an error
select order_id, amount / (quantity - 1) as per_extra_item
from orders
