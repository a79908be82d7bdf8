-- expect: compile_error date_diff() with this unit has no postgres equivalent
-- sqlglot turns a week difference into whole 7-day spans; DuckDB counts week boundaries crossed.
select order_id, date_diff('week', ordered_at, shipped_at + interval 20 day) as weeks
from orders
