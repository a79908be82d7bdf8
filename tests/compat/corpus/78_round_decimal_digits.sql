-- expect: same
select customer_id, round(score::decimal(18, 4), 1) as score_1dp
from customers
