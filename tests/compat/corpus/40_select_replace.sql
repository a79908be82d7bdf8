-- expect: compile_error SELECT * EXCLUDE/REPLACE has no postgres equivalent
select * replace (upper(status) as status)
from orders
