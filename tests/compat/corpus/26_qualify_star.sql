-- expect: compile_error QUALIFY with SELECT * has no postgres equivalent
-- sqlglot's subquery for QUALIFY selects * plus its window column _w, which then leaks into the result.
select *
from orders
qualify row_number() over (partition by customer_id order by ordered_at desc) = 1
