-- expect: same
select
    customer_id,
    upper(name) as upper_name,
    lower(name) as lower_name,
    trim(name) as trimmed,
    ltrim(name) as left_trimmed,
    rtrim(name) as right_trimmed,
    length(name) as name_length,
    left(name, 3) as first3,
    right(name, 2) as last2,
    substr(name, 2, 3) as middle,
    substring(name, 3) as tail,
    replace(name, 'a', 'o') as replaced,
    lpad(cast(customer_id as varchar), 4, '0') as padded,
    rpad(tier, 8, '.') as tier_padded,
    reverse(name) as reversed,
    repeat('*', customer_id % 4) as stars
from customers
