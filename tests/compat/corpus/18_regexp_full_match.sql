-- expect: compile_error function regexp_full_match() has no postgres equivalent
select customer_id, regexp_full_match(name, 'E.*') as is_e
from customers
