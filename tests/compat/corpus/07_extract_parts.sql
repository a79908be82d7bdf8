-- expect: same
select
    order_id,
    extract(year from ordered_at) as y,
    month(ordered_at) as m,
    day(ordered_at) as d,
    extract(hour from ordered_at) as h,
    extract(dow from ordered_at) as dow,
    extract(isodow from ordered_at) as isodow,
    extract(doy from ordered_at) as doy,
    extract(quarter from ordered_at) as q,
    epoch(ordered_at) as epoch_seconds
from orders
