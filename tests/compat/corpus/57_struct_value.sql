-- expect: compile_error struct value has no postgres equivalent
select customer_id, {'name': name, 'tier': tier} as profile
from customers
