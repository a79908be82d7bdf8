-- expect: same
select
    order_id,
    case when amount > 100 then 'big' when amount is null then 'unknown' else 'small' end as size,
    case status when 'shipped' then 1 when 'Shipped' then 1 else 0 end as is_shipped,
    if(quantity > 1, 'multi', 'single') as pack,
    coalesce(note, status, 'none') as label,
    ifnull(note, '-') as note_or_dash,
    nullif(lower(status), 'pending') as not_pending,
    amount is distinct from null as has_amount
from orders
