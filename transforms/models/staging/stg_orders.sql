-- materialized: view
-- published: false
-- Internal: staging views read raw tables live, so only the verified marts built from them are published.
-- description: Orders with their current status.
-- tags: staging, shop
select
    order_id,
    customer_id,
    lower(status) as status,
    amount,
    created_at as ordered_at,
    updated_at
from raw_shop.orders
