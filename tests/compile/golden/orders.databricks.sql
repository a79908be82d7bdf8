SELECT
  o.order_id,
  o.customer_id,
  o.status,
  o.amount,
  p.paid_amount,
  p.payment_method,
  o.ordered_at,
  p.paid_at,
  GREATEST(o.updated_at, COALESCE(p.updated_at, o.updated_at)) AS updated_at
FROM stg_orders AS o
LEFT JOIN stg_payments AS p
  ON p.order_id = o.order_id
