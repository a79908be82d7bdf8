-- expect: same
select o.order_id, x.events, x.last_event
from orders o
semi join customers c on c.customer_id = o.customer_id
cross join lateral (
    select count(*) as events, max(e.occurred_at) as last_event
    from events e
    where e.customer_id = o.customer_id
) x
