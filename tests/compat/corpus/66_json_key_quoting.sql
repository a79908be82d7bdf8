-- expect: same
select event_id, payload->>'$."utm source"' as utm_source, payload->'$."utm source"' as utm_json
from events
