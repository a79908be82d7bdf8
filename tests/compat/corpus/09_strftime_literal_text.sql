-- expect: compile_error strftime() with this format has no postgres equivalent
-- Letters outside % codes are patterns for TO_CHAR: 'Week of' prints the week of month and a time zone.
select order_id, strftime(ordered_at, 'Week of %Y') as label
from orders
