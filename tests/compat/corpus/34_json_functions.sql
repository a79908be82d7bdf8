-- expect: same
select
    event_id,
    json_extract(payload, '$.ms') as ms_json,
    json_extract_string(payload, '$.device.os') as os,
    json_extract_string(payload, '$.tags[1]') as second_tag,
    (payload->>'ms')::int as ms
from events
where payload->>'$.device.os' <> 'ios'
