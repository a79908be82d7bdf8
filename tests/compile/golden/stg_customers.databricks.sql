SELECT
  customer_id,
  name AS customer_name,
  email,
  country,
  tier,
  created_at AS signed_up_at,
  updated_at
FROM raw_shop.customers
