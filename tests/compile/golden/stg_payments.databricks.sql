SELECT
  payment_id,
  order_id,
  method AS payment_method,
  amount AS paid_amount,
  paid_at,
  updated_at
FROM raw_shop.payments
