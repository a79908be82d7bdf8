-- expect: same
-- DuckDB sorts NULLs last in both directions; sqlglot adds NULLS LAST to DESC for Postgres.
select customer_id, score
from customers
order by score desc, customer_id
limit 8
