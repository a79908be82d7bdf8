-- expect: same
select payload->>'$.device.os' as os, count(*) as events, sum((payload->>'$.ms')::int) as total_ms
from events
group by payload->>'$.device.os'
