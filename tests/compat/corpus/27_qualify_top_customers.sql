-- expect: same
select customer_id, sum(amount) as total
from orders
where customer_id is not null
group by customer_id
qualify rank() over (order by sum(amount) desc) <= 3
