-- expect: compile_error UNION BY NAME has no postgres equivalent
select customer_id, name from customers
union by name
select status as name, order_id as customer_id from orders
