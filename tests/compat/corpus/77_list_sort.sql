-- expect: compile_error function list_sort() has no postgres equivalent
-- sqlglot maps it to ARRAY_SORT, which Postgres does not have.
select customer_id, list_sort(list(quantity)) as quantities
from orders
group by customer_id
