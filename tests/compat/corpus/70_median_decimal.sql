-- expect: differs DuckDB interpolates a DECIMAL median at the column's scale, Postgres as a double
select status, median(amount) as median_amount
from orders
group by status
