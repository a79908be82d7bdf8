-- expect: same
select s.x, r.y, d.z, count(o.order_id) as orders_with_quantity
from generate_series(1, 4) s(x)
cross join range(0, 10, 5) r(y)
cross join range(3, 0, -2) d(z)
left join orders o on o.quantity = s.x
group by s.x, r.y, d.z
