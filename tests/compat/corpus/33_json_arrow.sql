-- expect: same
-- sqlglot prints JSON_EXTRACT_PATH_TEXT, which takes json but not jsonb (what dlt loads); the toolkit uses #>>.
select
    event_id,
    payload->>'$.path' as path,
    payload->'$.device'->>'os' as os,
    payload->>'path' as path_by_key,
    payload->'tags'->>0 as first_tag,
    payload->'$.device' as device
from events
