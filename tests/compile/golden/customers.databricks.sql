WITH order_stats AS (
  SELECT
    customer_id,
    COUNT(*) AS order_count,
    SUM(amount) FILTER(WHERE
      status <> 'cancelled') AS lifetime_value,
    MIN(ordered_at) AS first_order_at,
    MAX(ordered_at) AS last_order_at,
    MAX(updated_at) AS last_order_update
  FROM orders
  GROUP BY
    customer_id
)
SELECT
  c.customer_id,
  c.customer_name,
  c.country,
  c.tier,
  COALESCE(s.order_count, 0) AS order_count,
  COALESCE(s.lifetime_value, 0) AS lifetime_value,
  s.first_order_at,
  s.last_order_at,
  GREATEST(c.updated_at, COALESCE(s.last_order_update, c.updated_at)) AS updated_at
FROM stg_customers AS c
LEFT JOIN order_stats AS s
  ON s.customer_id = c.customer_id
