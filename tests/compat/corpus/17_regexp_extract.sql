-- expect: compile_error function regexp_extract() has no postgres equivalent
-- No equivalent with the same result: Postgres substring() gives NULL where regexp_extract gives ''.
select customer_id, regexp_extract(email, '@(.*)$', 1) as domain
from customers
