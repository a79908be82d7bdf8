SELECT
  order_id,
  customer_id,
  LOWER(status) AS status,
  amount,
  created_at AS ordered_at,
  updated_at
FROM raw_shop.orders
