-- expect: differs DATE_TRUNC of a DATE is a timestamptz on Postgres, a TIMESTAMP on DuckDB
select customer_id, date_trunc('month', signed_up) as signup_month
from customers
