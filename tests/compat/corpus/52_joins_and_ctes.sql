-- expect: same
with big as (
    select * from orders where amount > 150
), per_customer as (
    select customer_id, count(*) as big_orders from big group by customer_id
)
select c.customer_id, c.name, coalesce(p.big_orders, 0) as big_orders
from customers c
left join per_customer p using (customer_id)
where exists (select 1 from orders o where o.customer_id = c.customer_id and o.quantity > 2)
    and c.customer_id not in (select customer_id from orders where customer_id is not null and status = 'returned')
