-- materialized: view
-- description: One payment per paid order.
-- tags: staging, shop
select
    payment_id,
    order_id,
    method as payment_method,
    amount as paid_amount,
    paid_at,
    updated_at
from raw_shop.payments
