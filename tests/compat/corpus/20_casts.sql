-- expect: same
select
    order_id,
    amount::double as amount_double,
    cast(amount as integer) as amount_int,
    cast(amount as decimal(10, 1)) as amount_1dp,
    quantity::varchar as quantity_text,
    '2024-01-01'::date as a_date,
    cast(ordered_at as date) as order_date,
    ordered_at::date as order_date2,
    cast('42' as bigint) + quantity as answer,
    is_vip::int as vip_flag
from orders join customers using (customer_id)
