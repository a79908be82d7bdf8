-- materialized: view
-- published: false
-- Internal: staging views read raw tables live, so only the verified marts built from them are published.
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
