-- expect: same
-- The portable form of 71_division_by_zero: NULLIF gives NULL on both engines.
select
    status,
    sum(amount) / nullif(count(amount), 0) as avg_amount,
    sum(quantity) / nullif(sum(case when amount is null then 1 else 0 end), 0) as per_unpriced
from orders
group by status
