-- expect: differs ->> of a JSON object: DuckDB prints it compactly, Postgres jsonb with spaces
select event_id, payload->>'$.device' as device_text
from events
