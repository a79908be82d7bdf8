-- expect: compile_error SELECT * EXCLUDE/REPLACE has no postgres equivalent
select * exclude (note, shipped_at)
from orders
