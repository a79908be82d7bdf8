-- expect: same
select customer_id, name, email
from customers
where name ilike '%a%'
    and (email like '%@shop.com' or email ilike '%@EXAMPLE.ORG')
    and name not ilike 'j%'
