-- expect: compile_error range() with a step that is not an integer literal has no postgres equivalent
-- sqlglot makes the exclusive end inclusive with end - 1, which Postgres cannot subtract from a timestamp.
select t.slot
from range(timestamp '2024-01-01', timestamp '2024-01-02', interval 6 hour) t(slot)
