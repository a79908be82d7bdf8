-- expect: compile_error COLLATE has no postgres equivalent
select customer_id, name
from customers
order by name collate nocase
