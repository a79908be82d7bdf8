-- expect: compile_error generate_series()/range() outside FROM has no postgres equivalent
-- DuckDB returns one list; Postgres returns the elements as rows.
select generate_series(1, 3) as numbers
