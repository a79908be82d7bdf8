-- expect: compile_error ORDER BY ALL has no postgres equivalent
select status, quantity from orders order by all
