-- expect: same
-- Daily event counts on a TIMESTAMPTZ column (session time zone UTC in both engines).
select date_trunc('day', occurred_at) as event_day, event_type, count(*) as events
from events
group by date_trunc('day', occurred_at), event_type
