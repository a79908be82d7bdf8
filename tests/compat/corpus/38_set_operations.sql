-- expect: same
select customer_id from customers
union
select customer_id from orders
except
select customer_id from events where event_type = 'purchase'
union all
(select 3 intersect select customer_id from orders)
