-- expect: same
select
    customer_id,
    regexp_matches(name, '^[A-Z]') as capitalised,
    regexp_matches(email, '^[a-z]+[0-9]+@shop') as numbered_shop_address,
    regexp_replace(name, '\s+', ' ', 'g') as single_spaced,
    regexp_replace(name, '[aeiou]', '_') as first_vowel_masked,
    regexp_replace(name, '[aeiou]', '_', 'g') as vowels_masked
from customers
