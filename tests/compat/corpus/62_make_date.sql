-- expect: same
-- sqlglot prints DATE_FROM_PARTS, which Postgres lacks; the toolkit prints MAKE_DATE.
select customer_id, make_date(2024, 1 + customer_id % 12, customer_id) as anniversary
from customers
