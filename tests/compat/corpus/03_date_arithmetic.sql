-- expect: same
select
    customer_id,
    signed_up + 7 as week_later,
    signed_up - 1 as day_before,
    signed_up + interval 1 month as month_later,
    signed_up + interval '3 days' as three_days_later,
    date '2024-03-01' - signed_up as days_to_march
from customers
