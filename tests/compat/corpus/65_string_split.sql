-- expect: compile_error function str_split() has no postgres equivalent
select customer_id, string_split(email, '@') as parts
from customers
