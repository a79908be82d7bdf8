-- expect: same
select order_id, customer_id, amount, ordered_at
from orders
qualify row_number() over (partition by customer_id order by ordered_at desc) = 1
