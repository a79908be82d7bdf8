"""Benchmark: full extraction of a Postgres table into a fresh DuckDB file, toolkit vs connectorx + DuckDB.

    cd /work/main && .venv/bin/python bench/extract_sql.py [--rows 2000000] [--chunk-size 100000] [--runs 1]
        [--write-disposition append|merge] [--no-incremental] [--profile] [--check]

1. Creates, if missing, the database `elt_bench` and in it the table `events_<rows>` (id bigint pk,
   customer_id bigint, kind text, amount numeric(12,2), created_at/updated_at timestamptz; an index on
   updated_at), generated deterministically inside Postgres with generate_series, in one transaction (so an
   existing table is a complete one), then VACUUM FREEZE ANALYZE so no measurement pays for hint bits. Tables
   are kept between runs: `--rows 10000000` creates and then reuses `events_10000000`.
2. Warms the OS cache with a sequential scan, then measures, each in a fresh process (peak RSS is per
   measurement: the worker's own memory high-water mark), taking turns when --runs > 1:
   - toolkit: a fresh project + DuckDB file, `runner.load` of the table as `[sources.app]` (sql_database,
     connectorx backend, `chunk_size`, incremental on updated_at unless --no-incremental): a first, full load;
   - raw arrow: `connectorx.read_sql(..., return_type="arrow")` + DuckDB `create table ... as select * from tbl`;
   - raw arrow_stream: connectorx record batches of `chunk_size` rows appended to a DuckDB table one by one
     (what a streaming loader without dlt would do; memory bounded like the toolkit's).
3. Prints seconds, CPU seconds (all threads of the worker; steadier than wall time on a shared machine),
   rows/s, peak RSS, RSS after imports, dlt's step timings and the ratio toolkit / raw.
   Every result must hold exactly `rows` rows (exit 1 otherwise). Targets: ratio to raw arrow <= 1.25 and
   toolkit peak RSS <= 1 GiB; run again with `--rows 10000000` to see whether the toolkit's RSS stays flat.
   With --check, a missed target exits 1 too. --profile adds a cProfile of the toolkit load (extra process).

Postgres: --pg-url (default $ELT_BENCH_PG_URL or postgresql://postgres:bench@127.0.0.1:5432; a password is
needed by dlt even where the server trusts local connections).
"""
from __future__ import annotations

import argparse
import itertools
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    RSS_TARGET_MIB,
    duckdb_count,
    header,
    interleaved,
    line,
    peak_rss_mib,
    ratio_line,
    run_worker,
    steps_line,
    toolkit_load,
    verdict,
    versions,
    worker_main,
    write_project,
)

SCRIPT = str(Path(__file__).resolve())
DATABASE = "elt_bench"
DEFAULT_PG_URL = os.environ.get("ELT_BENCH_PG_URL", "postgresql://postgres:bench@127.0.0.1:5432")
DSN_ENV = "BENCH_PG_DSN"
RATIO_TARGET = 1.25
TOOLKIT_TABLE = "raw_app.events"

# ---------------------------------------------------------------------------------------------------
# The source table
# ---------------------------------------------------------------------------------------------------

CREATE = """
create table {table} (
    id bigint primary key,
    customer_id bigint not null,
    kind text not null,
    amount numeric(12, 2),
    created_at timestamptz not null,
    updated_at timestamptz not null
);
insert into {table}
select i,
       (i * 7919) % 100003,
       (array['view', 'click', 'cart', 'order', 'refund'])[1 + i % 5],
       ((i * 37) % 100000) / 100.0,
       timestamptz '2024-01-01 00:00:00+00' + i * interval '15 seconds',
       timestamptz '2024-01-01 00:00:00+00' + i * interval '15 seconds' + ((i * 7907) % 86400) * interval '1 second'
from generate_series(1::bigint, {rows}) as i;
create index {table}_updated_at on {table} (updated_at);
"""


def database_dsn(pg_url: str) -> str:
    return f"{pg_url.rstrip('/')}/{DATABASE}"


def table_name(rows: int) -> str:
    return f"events_{rows}"


def ensure_events_table(pg_url: str, rows: int) -> tuple[str, float | None]:
    """The table `events_<rows>` in `elt_bench`, created if missing; returns its name and the seconds creation
    took (None when it already existed)."""
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as admin:
        if not admin.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            admin.execute(f"create database {DATABASE}")
    table = table_name(rows)
    with psycopg.connect(database_dsn(pg_url), autocommit=True) as con:
        if con.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None:
            return table, None
        t = time.perf_counter()
        with con.transaction():
            for statement in CREATE.format(table=table, rows=rows).split(";"):
                if statement.strip():
                    con.execute(statement)
        con.execute(f"vacuum (freeze, analyze) {table}")
        return table, time.perf_counter() - t


def warm_and_describe(pg_url: str, table: str) -> tuple[int, str]:
    """Row count (a sequential scan, which also brings the table into the OS cache) and total size."""
    import psycopg

    with psycopg.connect(database_dsn(pg_url)) as con:
        count = con.execute(f"select count(*) from {table}").fetchone()[0]
        size = con.execute("select pg_size_pretty(pg_total_relation_size(%s))", (table,)).fetchone()[0]
    return count, size


def sql_sources_toml(table: str, chunk_size: int, disposition: str, incremental: bool) -> str:
    """`[sources.app]`: the table as resource `events` of a sql_database source reading $BENCH_PG_DSN."""
    return (f'[sources.app]\nkind = "sql_database"\ndsn_env = "{DSN_ENV}"\nchunk_size = {chunk_size}\n\n'
            f'[sources.app.resources.events]\ntable = "{table}"\nprimary_key = "id"\n'
            f'write_disposition = "{disposition}"\n'
            + ('incremental = { cursor = "updated_at" }\n' if incremental else ""))


# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line
# ---------------------------------------------------------------------------------------------------

def worker_toolkit(project: str, dsn: str, profile_top: int = 0) -> dict[str, Any]:
    """runner.load of `[sources.app]` in the (fresh) project; the loaded table is counted afterwards."""
    import connectorx  # noqa: F401 - imported before the clock, as in the raw workers

    os.environ[DSN_ENV] = dsn
    project_dir = Path(project)
    result = toolkit_load(project_dir, "app", profile_top)
    result["count"] = duckdb_count(project_dir / "wh.duckdb", TOOLKIT_TABLE)
    return result


def worker_raw_arrow(db_file: str, dsn: str, table: str) -> dict[str, Any]:
    """The whole table as one Arrow table from connectorx, then CREATE TABLE AS in DuckDB."""
    t = time.perf_counter()
    import connectorx as cx
    import duckdb
    imports = time.perf_counter() - t
    import_rss = peak_rss_mib()

    t0, c0 = time.perf_counter(), time.process_time()
    tbl = cx.read_sql(dsn, f"select * from {table}", return_type="arrow", protocol="binary")  # noqa: F841
    t1 = time.perf_counter()
    con = duckdb.connect(db_file)
    con.execute("create table events as select * from tbl")
    con.close()
    t2, cpu = time.perf_counter(), time.process_time() - c0
    return {"seconds": t2 - t0, "cpu": cpu, "read": t1 - t0, "write": t2 - t1, "imports": imports,
            "import_rss_mib": import_rss, "peak_rss_mib": peak_rss_mib(),
            "count": duckdb_count(Path(db_file), "events")}


def worker_raw_stream(db_file: str, dsn: str, table: str, chunk_size: int) -> dict[str, Any]:
    """connectorx record batches of `chunk_size` rows, each appended to a DuckDB table as it arrives."""
    t = time.perf_counter()
    import connectorx as cx
    import duckdb
    imports = time.perf_counter() - t
    import_rss = peak_rss_mib()

    t0, c0 = time.perf_counter(), time.process_time()
    reader = cx.read_sql(dsn, f"select * from {table}", return_type="arrow_stream", protocol="binary",
                         batch_size=chunk_size)
    empty = reader.schema.empty_table()  # noqa: F841 - DuckDB reads local Arrow objects by variable name
    con = duckdb.connect(db_file)
    con.execute("create table events as select * from empty")
    for batch in reader:  # noqa: B007 - DuckDB reads it by name
        con.execute("insert into events select * from batch")
    con.close()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu": cpu, "imports": imports, "import_rss_mib": import_rss,
            "peak_rss_mib": peak_rss_mib(), "count": duckdb_count(Path(db_file), "events")}


WORKERS = {"toolkit": worker_toolkit, "raw_arrow": worker_raw_arrow, "raw_stream": worker_raw_stream}

# ---------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the source table (default 2000000)")
    ap.add_argument("--chunk-size", type=int, default=100_000, help="chunk_size of the source and of raw stream")
    ap.add_argument("--runs", type=int, default=1, help="fresh-process runs per measurement; the median is reported")
    ap.add_argument("--write-disposition", choices=("append", "merge"), default="append")
    ap.add_argument("--no-incremental", action="store_true", help="declare no incremental cursor")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help="Postgres server URL without a database")
    ap.add_argument("--profile", action="store_true", help="also cProfile one toolkit load (extra process)")
    ap.add_argument("--top", type=int, default=30, help="rows of profile output")
    ap.add_argument("--keep", action="store_true", help="keep the projects and DuckDB files and print where")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        return worker_main(WORKERS, args.worker, args.params)

    table, created = ensure_events_table(args.pg_url, args.rows)
    rows, size = warm_and_describe(args.pg_url, table)
    dsn = database_dsn(args.pg_url)
    print(f"source: {DATABASE}.{table}, {rows:,} rows, {size} in Postgres"
          + (f" (created in {created:.1f} s)" if created is not None else " (reused)"))
    print(f"toolkit: chunk_size {args.chunk_size}, {args.write_disposition}, "
          + ("no cursor" if args.no_incremental else "incremental on updated_at") + ", first (full) load")
    print(f"{versions()}; each measurement in a fresh process, runs={args.runs} (median)")

    work = Path(tempfile.mkdtemp(prefix="elt-bench-sql-"))
    counter = itertools.count()
    toml = sql_sources_toml(table, args.chunk_size, args.write_disposition, not args.no_incremental)

    def toolkit(profile_top: int = 0) -> dict[str, Any]:
        project = write_project(work / f"toolkit-{next(counter)}", toml)
        return run_worker(SCRIPT, "toolkit", {"project": str(project), "dsn": dsn, "profile_top": profile_top},
                          cwd=project)

    def raw(kind: str, chunk_size: int | None = None) -> dict[str, Any]:
        db_file = work / f"{kind}-{next(counter)}.duckdb"
        params = {"db_file": str(db_file), "dsn": dsn, "table": table}
        return run_worker(SCRIPT, kind, params | ({"chunk_size": chunk_size} if chunk_size else {}), cwd=work)

    try:
        measured = interleaved(args.runs, {"toolkit": toolkit, "raw arrow": lambda: raw("raw_arrow"),
                                           "raw stream": lambda: raw("raw_stream", args.chunk_size)})
        tk, arrow, stream = measured["toolkit"], measured["raw arrow"], measured["raw stream"]

        print("\n" + header())
        print(line("toolkit  runner.load (dlt sql_table, connectorx)", tk, rows))
        print(steps_line(tk["steps"]))
        print(line("raw      connectorx arrow -> DuckDB CTAS", arrow, rows))
        print(f"    read {arrow['read']:.2f} s, DuckDB create table {arrow['write']:.2f} s")
        print(line(f"raw      connectorx arrow_stream({args.chunk_size}) -> DuckDB", stream, rows))
        if args.runs > 1:
            for label, m in measured.items():
                print(f"    {label} runs: " + ", ".join(f"{s:.2f}" for s in m["all_seconds"]))

        counts = {"toolkit (loaded)": tk["count"], "toolkit (LoadResult)": tk["rows"], "raw arrow": arrow["count"],
                  "raw arrow_stream": stream["count"]}
        wrong = {label: count for label, count in counts.items() if count != rows}
        ratio = tk["seconds"] / arrow["seconds"]
        print("\n" + ratio_line("toolkit / raw arrow", tk, arrow, RATIO_TARGET))
        print(ratio_line("toolkit / raw arrow_stream", tk, stream))
        rss_ok = tk["peak_rss_mib"] <= RSS_TARGET_MIB
        print(f"toolkit peak RSS {tk['peak_rss_mib']:.0f} MiB ({tk['peak_rss_mib'] - tk['import_rss_mib']:.0f} MiB "
              f"above its RSS after imports)   target <= {RSS_TARGET_MIB:.0f} MiB: {verdict(rss_ok)}")
        print(f"row counts: {'all ' + format(rows, ',') if not wrong else wrong}")

        if args.profile:
            prof = toolkit(args.top)
            print(f"\ncProfile of one toolkit load ({prof['seconds']:.2f} s under the profiler; dlt's load step "
                  "runs in worker threads the profiler does not see), by cumulative time:\n"
                  + prof["profile_cumulative"])
            print("by own time:\n" + prof["profile_tottime"])

        if wrong:
            print(f"\nFAILED: every result must hold {rows:,} rows", file=sys.stderr)
            return 1
        if args.check and not (ratio <= RATIO_TARGET and rss_ok):
            return 1
        return 0
    finally:
        if args.keep:
            print(f"\nkept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
