SELECT
  DATE_TRUNC('DAY', ordered_at) AS order_date,
  COUNT(*) AS orders,
  COUNT(DISTINCT customer_id) AS customers,
  SUM(amount) AS revenue,
  MAX(updated_at) AS updated_at
FROM orders
WHERE
  status <> 'cancelled'
GROUP BY
  DATE_TRUNC('DAY', ordered_at)
