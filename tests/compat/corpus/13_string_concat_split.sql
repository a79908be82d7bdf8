-- expect: same
select
    customer_id,
    concat(name, ' <', email, '>') as contact,
    name || ' / ' || country as with_country,
    concat_ws('-', tier, country, email) as joined,
    split_part(email, '@', 2) as domain,
    strpos(name, 'a') as first_a,
    position('o' in name) as first_o,
    starts_with(name, 'A') as starts_a
from customers
