-- expect: compile_error JSON path that is not a literal of keys and indexes
-- DuckDB reads '/device/os' as a JSON pointer; Postgres would look for a key named '/device/os'.
select event_id, payload->>'/device/os' as os
from events
