-- expect: compile_error function mode() has no postgres equivalent
-- Postgres spells it mode() WITHIN GROUP (ORDER BY ...); sqlglot prints mode(status).
select customer_id, mode(status) as usual_status
from orders
group by customer_id
