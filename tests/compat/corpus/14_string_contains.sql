-- expect: compile_error function contains() has no postgres equivalent
select customer_id, contains(name, 'an') as has_an
from customers
