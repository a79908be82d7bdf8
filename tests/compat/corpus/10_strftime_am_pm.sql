-- expect: compile_error strftime() with this format
-- %p (and %w, %u, %U, %%) is copied into the TO_CHAR pattern verbatim or mapped to another field.
select order_id, strftime(ordered_at, '%I:%M %p') as clock
from orders
