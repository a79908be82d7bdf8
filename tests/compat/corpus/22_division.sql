-- expect: same
-- / is float division in DuckDB; sqlglot casts so Postgres does not divide integers.
select
    order_id,
    quantity / 2 as half,
    quantity // 2 as half_floor,
    quantity % 2 as odd,
    amount / quantity as unit_price,
    7 / 2 as three_and_a_half
from orders
