-- expect: compile_error GROUP BY ALL with SELECT * has no postgres equivalent
select *
from (select status, count(*) as orders from orders group by status) s
group by all
