SELECT
  TIMESTAMP_TRUNC(ordered_at, DAY) AS order_date,
  COUNT(*) AS orders,
  COUNT(DISTINCT customer_id) AS customers,
  SUM(amount) AS revenue,
  MAX(updated_at) AS updated_at
FROM orders
WHERE
  status <> 'cancelled'
GROUP BY
  TIMESTAMP_TRUNC(ordered_at, DAY)
