-- expect: same
select
    order_id,
    strftime(ordered_at, '%Y-%m') as order_month,
    strftime(ordered_at, '%d.%m.%Y %H:%M:%S') as german,
    strftime(ordered_at, '%a %d %b %y, %I %j') as short_text,
    strftime(ordered_at, '%A %-d %B') as long_text,
    strftime(ordered_at, '%-m/%-d %H:%M:%S.%f') as us_style,
    strftime(ordered_at::date, '%G-%V') as iso_week
from orders
