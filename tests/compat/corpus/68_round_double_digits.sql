-- expect: differs Postgres has no round(double precision, integer)
select customer_id, round(score, 1) as score_1dp
from customers
