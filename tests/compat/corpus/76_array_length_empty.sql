-- expect: differs array_length() becomes ARRAY_LENGTH(x, 1), NULL for an empty array where DuckDB says 0
select customer_id, array_length(case when is_vip then [customer_id] else []::integer[] end) as vip_ids
from customers
