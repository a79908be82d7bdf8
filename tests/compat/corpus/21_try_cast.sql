-- expect: compile_error TRY_CAST has no postgres equivalent
select order_id, try_cast(note as integer) as note_number
from orders
