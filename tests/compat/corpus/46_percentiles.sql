-- expect: same
select
    status,
    median(quantity) as median_quantity,
    quantile_cont(quantity, 0.75) as p75_quantity,
    percentile_cont(0.9) within group (order by quantity) as p90_quantity,
    quantile_disc(amount, 0.25) as p25_amount,
    percentile_disc(0.5) within group (order by amount) as p50_amount
from orders
group by status
