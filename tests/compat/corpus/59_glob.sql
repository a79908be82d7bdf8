-- expect: compile_error GLOB has no postgres equivalent
select customer_id from customers where name glob '[A-C]*'
