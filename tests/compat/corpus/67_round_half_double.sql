-- expect: differs ROUND of a DOUBLE rounds half to even on Postgres, half away from zero on DuckDB
select customer_id, customer_id / 2 as half, round(customer_id / 2) as half_rounded
from customers
