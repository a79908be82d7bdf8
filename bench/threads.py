"""Benchmark: independent table models on Postgres built by the flow with `threads = 4` against `threads = 1`.

    cd /work/main && .venv/bin/python bench/threads.py [--models 100] [--rows 200000] [--pairs 3]
        [--contracts 10] [--pg-url URL] [--check]

1. Creates, if missing, the database `elt_bench_threads` and in it `raw_bench.events` (`--rows` rows shaped as
   dlt leaves them, with `_dlt_load_id`), kept between runs. A project with one Postgres target and no
   sources holds `--models` table models, each aggregating its share of the events (`id % models = i`, so
   each reads the whole table), none reading another; the first `--contracts` have a contract (row count,
   no missing bucket).
2. Measures, each a whole fresh process against a running `prefect server` (SQLite, UI off), pairs in turn,
   each run on an empty `_elt` (everything builds):
   - toolkit: `elt_pipeline()` (what `elt run` runs) with threads = 4, then with threads = 1;
   - raw engine: psycopg running the same aggregates as CREATE TABLE AS (and counting each result, as the
     toolkit does) over 4 connections, then over 1.
3. Prints seconds, the flow's build-and-verify stage, and the ratios threads 4 / threads 1 (min/median/max):
   whole process, build stage, raw engine. Target: the toolkit's build stage <= 0.55 (the whole process is
   printed beside it: imports, planning and Prefect's start and end do not shrink with threads). --check
   exits 1 on a missed target.

Postgres: --pg-url (default $ELT_BENCH_PG_URL or postgresql://postgres:bench@127.0.0.1:5432).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, verdict, worker_main  # noqa: E402
from _projects import postgres_target, write_config  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
DATABASE = "elt_bench_threads"
DEFAULT_PG_URL = os.environ.get("ELT_BENCH_PG_URL", "postgresql://postgres:bench@127.0.0.1:5432")
DSN_ENV = "BENCH_PG_DSN"
RATIO_TARGET = 0.55
RAW_TABLE = "raw_bench.events"


def aggregate(i: int, models: int) -> str:
    """Model i's query: valid DuckDB (the authoring dialect) and Postgres alike."""
    return ("select customer_id % 500 as bucket, count(*) as events, sum(amount) as total, "
            f"max(created_at) as last_at\nfrom {RAW_TABLE}\nwhere id % {models} = {i}\ngroup by customer_id % 500")


def ensure_events(pg_url: str, rows: int) -> str:
    """`raw_bench.events` with `rows` rows in the bench database (created or recreated when its size differs)."""
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as admin:
        if not admin.execute("select 1 from pg_database where datname = %s", (DATABASE,)).fetchone():
            admin.execute(f"create database {DATABASE}")
    dsn = f"{pg_url.rstrip('/')}/{DATABASE}"
    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("create schema if not exists raw_bench")
        present = con.execute("select to_regclass(%s)", (RAW_TABLE,)).fetchone()[0]
        if present is None or con.execute(f"select count(*) from {RAW_TABLE}").fetchone()[0] != rows:
            con.execute(f"drop table if exists {RAW_TABLE}")
            con.execute(f"create table {RAW_TABLE} as select i as id, (i * 7919) % 100003 as customer_id, "
                        "((i * 37) % 100000) / 100.0 as amount, timestamp '2024-01-01' + i * interval '15 seconds' "
                        "as created_at, '1700000000.1'::varchar as _dlt_load_id "
                        f"from generate_series(1::bigint, {rows}) i")
            con.execute(f"vacuum (freeze, analyze) {RAW_TABLE}")
    return dsn


def write_project(directory: Path, models: int, contracts: int, threads: int) -> Path:
    write_config(directory, postgres_target(DSN_ENV), threads=threads)
    for i in range(models):
        (directory / "transforms" / "models" / "marts").mkdir(parents=True, exist_ok=True)
        (directory / "transforms" / "models" / "marts" / f"m_{i:03d}.sql").write_text(
            f"-- materialized: table\n-- description: bench model {i}: its share of the events by bucket.\n"
            + aggregate(i, models) + "\n", encoding="utf-8")
        if i < contracts:
            (directory / "checks" / "contracts" / f"m_{i:03d}.yml").write_text(
                "columns:\n  - name: bucket\n    checks:\n      - missing:\n  - name: events\n  - name: total\n"
                "  - name: last_at\nchecks:\n  - row_count:\n      threshold:\n        must_be_greater_than: 0\n",
                encoding="utf-8")
    return directory


def reset(dsn: str) -> None:
    """An empty warehouse apart from the raw table: every model builds."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        for schema in ("_elt", "analytics", "raw_out"):
            con.execute(f"drop schema if exists {schema} cascade")


# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line
# ---------------------------------------------------------------------------------------------------

def worker_toolkit(project: str) -> dict[str, Any]:
    t = time.perf_counter()
    from checks.verify import preload
    from flows.elt_flow import elt_pipeline
    from flows.server import cli_run
    preload()  # Soda's imports count as imports, not as part of the stage whose parallelism is measured
    imports = time.perf_counter() - t
    t = time.perf_counter()
    with cli_run():  # as `elt run` runs it
        summary = elt_pipeline(project_dir=project)
    return {"imports": imports, "seconds": time.perf_counter() - t, "build_seconds": summary.build_seconds,
            "built": sum(b.status == "built" for b in summary.builds), "checks": summary.gate.summary["checks"]}


def worker_raw(dsn: str, models: int, threads: int) -> dict[str, Any]:
    """The same aggregates as CREATE TABLE AS over `threads` connections, each result counted."""
    t = time.perf_counter()
    import psycopg
    imports = time.perf_counter() - t
    t = time.perf_counter()
    connections = [psycopg.connect(dsn, autocommit=True) for _ in range(threads)]
    connections[0].execute("create schema raw_out")

    def build(i: int) -> int:
        con = connections[i % threads]
        con.execute(f"create table raw_out.m_{i:03d} as {aggregate(i, models)}")
        return con.execute(f"select count(*) from raw_out.m_{i:03d}").fetchone()[0]

    # each connection takes every threads-th model, in order, as the toolkit's workers take the next ready one
    with ThreadPoolExecutor(threads) as pool:
        rows = sum(pool.map(lambda k: sum(build(i) for i in range(k, models, threads)), range(threads)))
    for con in connections:
        con.close()
    return {"imports": imports, "seconds": time.perf_counter() - t, "rows": rows}


WORKERS = {"toolkit": worker_toolkit, "raw": worker_raw}

# ---------------------------------------------------------------------------------------------------


def timed(params: dict[str, Any], kind: str, cwd: Path, env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    cmd = [sys.executable, SCRIPT, "--worker", kind, "--params", json.dumps(params)]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"worker {kind} failed (exit {proc.returncode})")
    return seconds, json.loads(proc.stdout.strip().splitlines()[-1])


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f}, median {statistics.median(values):.2f}, max {max(values):.2f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=100, help="independent table models (default 100)")
    ap.add_argument("--rows", type=int, default=200_000, help="rows of the raw table (default 200000)")
    ap.add_argument("--contracts", type=int, default=10, help="models with a contract (default 10)")
    ap.add_argument("--pairs", type=int, default=3, help="threads 4 / threads 1 pairs (default 3)")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help="Postgres server URL without a database")
    ap.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        return worker_main(WORKERS, args.worker, args.params)

    from tests.prefect_server import prefect_server

    dsn = ensure_events(args.pg_url, args.rows)
    work = Path(tempfile.mkdtemp(prefix="elt-bench-threads-"))
    projects = {n: write_project(work / f"threads-{n}", args.models, args.contracts, n) for n in (4, 1)}
    print(f"{args.models} independent table models over {DATABASE}.{RAW_TABLE} ({args.rows:,} rows), "
          f"{args.contracts} with a contract; python {sys.version.split()[0]}, {os.cpu_count()} cores")
    print(f"each run a whole fresh process on an empty _elt schema, {args.pairs} pair(s) taken in turn")
    (work / "server").mkdir()
    env = {**os.environ, DSN_ENV: dsn, "PREFECT_HOME": str(work / "client-home"), "DO_NOT_TRACK": "1",
           "SODA_CORE_TELEMETRY_ENABLED": "false", "RUNTIME__DLTHUB_TELEMETRY": "false", "PYTHONPATH": str(ROOT)}
    measured: dict[str, list[tuple[float, dict[str, Any]]]] = {k: [] for k in ("tk4", "tk1", "raw4", "raw1")}
    try:
        with prefect_server(work / "server") as api:
            env["PREFECT_API_URL"] = api
            for _ in range(args.pairs):
                for key, threads in (("tk4", 4), ("tk1", 1)):
                    reset(dsn)
                    measured[key].append(timed({"project": str(projects[threads])}, "toolkit", projects[threads], env))
                    if measured[key][-1][1]["built"] != args.models:
                        raise SystemExit(f"threads {threads}: built {measured[key][-1][1]['built']} of {args.models}")
                for key, threads in (("raw4", 4), ("raw1", 1)):
                    reset(dsn)
                    measured[key].append(timed({"dsn": dsn, "models": args.models, "threads": threads}, "raw", work,
                                               env))
        reset(dsn)
    finally:
        import shutil

        shutil.rmtree(work, ignore_errors=True)

    print(f"\n  {'':<28} {'process':>9} {'imports':>9} {'flow()':>9} {'build+verify':>13}")
    for key, label in (("tk4", "toolkit threads = 4"), ("tk1", "toolkit threads = 1")):
        for wall, m in measured[key]:
            print(f"  {label:<28} {wall:7.2f} s {m['imports']:7.2f} s {m['seconds']:7.2f} s "
                  f"{m['build_seconds']:11.2f} s")
    for key, label in (("raw4", "raw psycopg, 4 connections"), ("raw1", "raw psycopg, 1 connection")):
        for wall, m in measured[key]:
            print(f"  {label:<28} {wall:7.2f} s {m['imports']:7.2f} s {m['seconds']:7.2f} s")

    def ratios(a: str, b: str, pick) -> list[float]:
        return [pick(x) / pick(y) for x, y in zip(measured[a], measured[b], strict=True)]

    stage = ratios("tk4", "tk1", lambda r: r[1]["build_seconds"])
    whole = ratios("tk4", "tk1", lambda r: r[0])
    raw = ratios("raw4", "raw1", lambda r: r[1]["seconds"])
    ok = statistics.median(stage) <= RATIO_TARGET
    print(f"\nratio build+verify stage, threads 4 / threads 1: {spread(stage)}   target <= {RATIO_TARGET}: "
          f"{verdict(ok)}")
    print(f"ratio whole process, threads 4 / threads 1:      {spread(whole)}")
    print(f"ratio raw engine, 4 connections / 1:             {spread(raw)}")
    return 1 if args.check and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
