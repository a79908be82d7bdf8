-- expect: same
-- DuckDB gives TIMESTAMPs for a series of DATEs; Postgres gives timestamptz unless the bounds are cast.
select d.day, count(o.order_id) as orders
from generate_series(date '2024-01-01', date '2024-01-10', interval 1 day) d(day)
left join orders o on date_trunc('day', o.ordered_at) = d.day
group by d.day
