"""Benchmark: full extraction of a Postgres table, toolkit against the raw engine, as whole processes.

    cd /work/main && .venv/bin/python bench/extract_sql.py [--rows 2000000] [--chunk-size 100000] [--pairs 3]
        [--target duckdb|postgres] [--write-disposition append|merge] [--no-incremental] [--profile] [--check]

1. Creates, if missing, the database `elt_bench` and in it the table `events_<rows>` (id bigint pk,
   customer_id bigint, kind text, amount numeric(12,2), created_at/updated_at timestamptz; an index on
   updated_at), generated deterministically inside Postgres with generate_series, in one transaction (so an
   existing table is a complete one), then VACUUM FREEZE ANALYZE so no measurement pays for hint bits. Tables
   are kept between runs: `--rows 10000000` creates and then reuses `events_10000000`.
2. Warms the OS cache with a sequential scan, then measures whole processes (start-up, imports and exit
   included), in turn, `--pairs` times, each on a fresh project (first, full load):
   - `--target duckdb` (default): toolkit `elt extract app` (sql_database, connectorx backend, `chunk_size`,
     incremental on updated_at unless --no-incremental) into a DuckDB file, against a raw process running
     `connectorx.read_sql(..., return_type="arrow")` + DuckDB `create table ... as select * from tbl`.
     Targets: ratio <= 1.3 (<= 1.15 from 10M rows), toolkit peak RSS <= 1 GiB (bounded by chunk_size: run
     `--rows 10000000` to see it stay flat).
   - `--target postgres`: the same `elt extract app` into a scratch Postgres database, as shipped (Parquet
     through ADBC) and as before (dlt's csv + COPY, the previous default), with rows/s of each. Target:
     as shipped >= 2x the rows/s of before.
3. Prints each pair, then ratios as median (min-max) over the pairs, wall and CPU, and peak RSS. Every
   result must hold exactly `rows` rows (exit 1 otherwise); with --check, a missed target exits 1 too.
   --profile adds a cProfile of one toolkit load in process (extra process) with dlt's step timings.

Postgres: --pg-url (default $ELT_BENCH_PG_URL or postgresql://postgres:bench@127.0.0.1:5432; a password is
needed by dlt even where the server trusts local connections).
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    RSS_TARGET_MIB,
    duckdb_count,
    run_worker,
    spread,
    steps_line,
    toolkit_load,
    verdict,
    versions,
    whole_process,
    worker_main,
    write_project,
)

SCRIPT = str(Path(__file__).resolve())
DATABASE = "elt_bench"
DEFAULT_PG_URL = os.environ.get("ELT_BENCH_PG_URL", "postgresql://postgres:bench@127.0.0.1:5432")
DSN_ENV = "BENCH_PG_DSN"
ELT = str(Path(sys.executable).parent / "elt")
RATIO_TARGET, RATIO_TARGET_10M = 1.3, 1.15
POSTGRES_SPEEDUP_TARGET = 2.0
FIXED_COST_TARGET = 0.5  # seconds a load with nothing new costs beyond the raw engine's own check
TARGET_DSN_ENV = "BENCH_TARGET_DSN"
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

def worker_profile(project: str, dsn: str, profile_top: int) -> dict[str, Any]:
    """runner.load of `[sources.app]` in the (fresh) project under cProfile, with dlt's step timings."""
    os.environ[DSN_ENV] = dsn
    return toolkit_load(Path(project), "app", profile_top)


def worker_raw_arrow(db_file: str, dsn: str, table: str) -> dict[str, Any]:
    """The whole table as one Arrow table from connectorx, then CREATE TABLE AS in DuckDB."""
    import connectorx as cx
    import duckdb

    tbl = cx.read_sql(dsn, f"select * from {table}", return_type="arrow", protocol="binary")  # noqa: F841
    con = duckdb.connect(db_file)
    con.execute("create table events as select * from tbl")
    con.close()
    return {}


def worker_raw_nothing_new(db_file: str, dsn: str, table: str) -> dict[str, Any]:
    """What an hourly load with nothing new needs at the least: ask the source for rows past the cursor, open
    the warehouse."""
    import connectorx as cx
    import duckdb

    found = cx.read_sql(dsn, f"select * from {table} where updated_at > (select max(updated_at) from {table})",
                        return_type="arrow", protocol="binary")
    duckdb.connect(db_file).close()
    return {"rows": found.num_rows}


def worker_extract_csv(project: str) -> dict[str, Any]:
    """`elt extract app` as it loaded Postgres before: dlt's csv files and COPY."""
    from elt_cli.main import main
    from sources import runner

    runner.LOADER_FORMAT_POSTGRES = "csv"
    os.chdir(project)
    if main(["extract", "app"]) != 0:
        raise SystemExit(1)
    return {}


WORKERS = {"profile": worker_profile, "raw_arrow": worker_raw_arrow, "raw_nothing_new": worker_raw_nothing_new,
           "extract_csv": worker_extract_csv}

# ---------------------------------------------------------------------------------------------------


def postgres_target_toml(dsn_env: str) -> str:
    return (f'[project]\nname = "bench"\ndefault_target = "pg"\n\n[targets.pg]\ntype = "postgres"\n'
            f'dsn_env = "{dsn_env}"\n\n')


def postgres_count(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as con:
        return con.execute(f"select count(*) from {TOOLKIT_TABLE}").fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the source table (default 2000000)")
    ap.add_argument("--chunk-size", type=int, default=100_000, help="chunk_size of the source")
    ap.add_argument("--pairs", type=int, default=3, help="toolkit and raw runs in turn (default 3)")
    ap.add_argument("--target", choices=("duckdb", "postgres"), default="duckdb", help="where the toolkit loads")
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
    print(f"toolkit: `elt extract` into {args.target}, chunk_size {args.chunk_size}, {args.write_disposition}, "
          + ("no cursor" if args.no_incremental else "incremental on updated_at") + ", first (full) load")
    print(f"{versions()}; whole processes in turn, {args.pairs} pair(s)")

    work = Path(tempfile.mkdtemp(prefix="elt-bench-sql-"))
    counter = itertools.count()
    toml = sql_sources_toml(table, args.chunk_size, args.write_disposition, not args.no_incremental)
    env = os.environ | {DSN_ENV: dsn}

    def project() -> Path:
        return write_project(work / f"toolkit-{next(counter)}", toml)

    try:
        if args.target == "postgres":
            ok = measure_postgres_target(args, work, toml, env, rows)
        else:
            ok = measure_duckdb_target(args, work, project, env, dsn, table, rows)
        if args.profile:
            prof = run_worker(SCRIPT, "profile", {"project": str(project()), "dsn": dsn, "profile_top": args.top})
            print(f"\ncProfile of one toolkit load in process ({prof['seconds']:.2f} s under the profiler; dlt's "
                  "load step runs in worker threads the profiler does not see)")
            print(steps_line(prof["steps"]))
            print("by cumulative time:\n" + prof["profile_cumulative"])
            print("by own time:\n" + prof["profile_tottime"])
        if ok is None:
            return 1
        return 1 if args.check and not ok else 0
    finally:
        if args.keep:
            print(f"\nkept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def measure_duckdb_target(args: argparse.Namespace, work: Path, project: Any, env: dict, dsn: str, table: str,
                          rows: int) -> bool | None:
    """The pairs into DuckDB; True when every target is met, None when a result holds the wrong rows."""
    walls, cpus, rss, wrong, fixed = [], [], {"toolkit": 0.0, "raw": 0.0}, [], []
    for _ in range(args.pairs):
        folder = project()
        tk = whole_process([ELT, "extract", "app"], cwd=folder, env=env)
        db_file = work / f"raw-{len(walls)}.duckdb"
        params = json.dumps({"db_file": str(db_file), "dsn": dsn, "table": table})
        raw = whole_process([sys.executable, SCRIPT, "--worker", "raw_arrow", "--params", params], cwd=work)
        # nothing new at the source, twice: the first one, right after the full load, paid 1-4 s more on 10M rows
        # than the steady state an hourly schedule sees
        whole_process([ELT, "extract", "app"], cwd=folder, env=env)
        again = whole_process([ELT, "extract", "app"], cwd=folder, env=env)
        raw_again = whole_process([sys.executable, SCRIPT, "--worker", "raw_nothing_new", "--params", params],
                                  cwd=work)
        fixed.append(again["seconds"] - raw_again["seconds"])
        walls.append(tk["seconds"] / raw["seconds"])
        cpus.append(tk["cpu"] / raw["cpu"])
        rss = {"toolkit": max(rss["toolkit"], tk["peak_rss_mib"]), "raw": max(rss["raw"], raw["peak_rss_mib"])}
        print(f"  toolkit {tk['seconds']:6.2f} s ({tk['cpu']:5.2f} s CPU, {tk['peak_rss_mib']:4.0f} MiB)   "
              f"raw {raw['seconds']:6.2f} s ({raw['cpu']:5.2f} s CPU, {raw['peak_rss_mib']:4.0f} MiB)   "
              f"ratio {walls[-1]:.2f}")
        print(f"    nothing new: toolkit {again['seconds']:5.2f} s, raw check {raw_again['seconds']:5.2f} s")
        wrong += [f"{label}: {count:,}" for label, count in (
            ("toolkit", duckdb_count(folder / "wh.duckdb", TOOLKIT_TABLE)), ("raw", duckdb_count(db_file, "events")))
            if count != rows]
    target = RATIO_TARGET_10M if rows >= 10_000_000 else RATIO_TARGET
    met = statistics.median(walls) <= target
    rss_ok = rss["toolkit"] <= RSS_TARGET_MIB
    print(f"ratio toolkit / connectorx -> Arrow -> DuckDB: {spread(walls)}  (CPU {spread(cpus)})   "
          f"target <= {target}: {verdict(met)}")
    print(f"peak RSS: toolkit {rss['toolkit']:.0f} MiB (target <= {RSS_TARGET_MIB:.0f}: {verdict(rss_ok)}), "
          f"raw {rss['raw']:.0f} MiB")
    fixed_ok = statistics.median(fixed) <= FIXED_COST_TARGET
    print(f"fixed cost of a load (nothing new: toolkit - raw check): {spread(fixed)} s   "
          f"target <= {FIXED_COST_TARGET}: {verdict(fixed_ok)}")
    print(f"row counts: {'all ' + format(rows, ',') if not wrong else 'WRONG ' + ', '.join(wrong)}")
    return None if wrong else met and rss_ok and fixed_ok


def measure_postgres_target(args: argparse.Namespace, work: Path, toml: str, env: dict, rows: int) -> bool | None:
    """The toolkit as shipped (Parquet + ADBC) and as before (csv + COPY) into scratch Postgres databases."""
    import psycopg

    admin = f"{args.pg_url.rstrip('/')}/postgres"
    rates: dict[str, list[float]] = {"as shipped (parquet + ADBC)": [], "before (csv + COPY)": []}
    wrong = []
    for number in range(args.pairs):
        for label in rates:
            database = f"elt_bench_target_{number}_{len(rates[label])}_{'csv' if 'csv' in label else 'pq'}"
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f"drop database if exists {database}")
                con.execute(f"create database {database}")
            target_dsn = f"{args.pg_url.rstrip('/')}/{database}"
            folder = work / f"pg-{database}"
            folder.mkdir()
            (folder / "elt.toml").write_text(postgres_target_toml(TARGET_DSN_ENV) + toml, encoding="utf-8")
            run_env = env | {TARGET_DSN_ENV: target_dsn}
            if "csv" in label:
                measured = whole_process([sys.executable, SCRIPT, "--worker", "extract_csv", "--params",
                                          json.dumps({"project": str(folder)})], cwd=folder, env=run_env)
            else:
                measured = whole_process([ELT, "extract", "app"], cwd=folder, env=run_env)
            rates[label].append(rows / measured["seconds"])
            count = postgres_count(target_dsn)
            if count != rows:
                wrong.append(f"{label}: {count:,}")
            print(f"  {label:<28} {measured['seconds']:6.2f} s  {rows / measured['seconds']:10,.0f} rows/s  "
                  f"{measured['peak_rss_mib']:4.0f} MiB")
            with psycopg.connect(admin, autocommit=True) as con:
                con.execute(f"drop database {database}")
    for label, values in rates.items():
        print(f"rows/s {label:<28} {spread(values, 0)}")
    (after, before) = (statistics.median(v) for v in rates.values())
    speedups = [a / b for a, b in zip(*rates.values(), strict=True)]
    met = after >= POSTGRES_SPEEDUP_TARGET * before
    print(f"speed-up as shipped / before: {spread(speedups)}   target >= {POSTGRES_SPEEDUP_TARGET}: {verdict(met)}")
    print(f"row counts: {'all ' + format(rows, ',') if not wrong else 'WRONG ' + ', '.join(wrong)}")
    return None if wrong else met


if __name__ == "__main__":
    sys.exit(main())
