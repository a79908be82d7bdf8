-- expect: same
select
    order_id,
    ordered_at + interval 90 minute as promised_at,
    ordered_at - interval '2 hours' as prepared_at,
    shipped_at - ordered_at as lead_time,
    (shipped_at - ordered_at) * 2 as double_lead_time,
    interval 1 day * quantity as handling,
    extract(epoch from shipped_at - ordered_at) / 3600 as lead_hours
from orders
