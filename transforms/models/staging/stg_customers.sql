-- materialized: view
-- published: false
-- Internal: staging views read raw tables live, so only the verified marts built from them are published.
-- description: Customers as loaded from the shop, with consumer-friendly names.
-- tags: staging, shop
select
    customer_id,
    name as customer_name,
    email,
    country,
    tier,
    created_at as signed_up_at,
    updated_at
from raw_shop.customers
