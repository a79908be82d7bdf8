-- expect: same
-- Rewritten to GROUP BY 1, 2: the positions of the items without an aggregate.
select
    status,
    quantity,
    count(*) as orders,
    sum(amount) as revenue,
    rank() over (order by count(*) desc) as popularity
from orders
group by all
