"""Benchmark: an incremental load with nothing new at the source must not cost more on a bigger table.

    cd /work/main && .venv/bin/python bench/incremental_noop.py [--small 1000000] [--large 10000000] [--repeats 3]
        [--write-disposition append|merge] [--cache-dir /tmp/elt-bench-noop] [--fresh] [--check]

1. For each size, the Postgres table `elt_bench.events_<rows>` of bench/extract_sql.py (created there if
   missing; kept between runs) is loaded once in full by the toolkit into a project cached under
   `<cache-dir>/<disposition>-<rows>/` (incremental on updated_at, primary key id). The project is reused by
   later runs of this script while its source declaration is unchanged (--fresh reloads it anyway, e.g. after
   a change to sources/); the full load's time is printed when it happens.
2. Then `runner.load` runs again `--repeats` times, each in a fresh process, with nothing new at the source:
   dlt asks Postgres for `updated_at >= <stored cursor>`, drops the boundary rows it already has, and loads
   nothing. The median is reported, with dlt's step timings and peak RSS. After every run the raw table
   must still hold exactly `rows` rows and the run must report 0 rows loaded (exit 1 otherwise).
3. For reference, the raw engine doing the same check ("raw check"): connectorx alone reading
   `updated_at >= <cursor>` (connection included) in a fresh process.
4. Prints the ratio of the large to the small table's no-op time (target <= 1.2); with --check, a missed
   target exits 1.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import peak_rss_mib, run_worker, steps_line, verdict, versions, worker_main, write_project  # noqa: E402
from extract_sql import (  # noqa: E402
    DATABASE,
    DEFAULT_PG_URL,
    database_dsn,
    ensure_events_table,
    sql_sources_toml,
)
from extract_sql import SCRIPT as EXTRACT_SQL  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
RATIO_TARGET = 1.2
MARKER = "full_load.json"


def worker_raw_check(dsn: str, table: str, cursor: str) -> dict[str, Any]:
    """connectorx reading the rows at or after the cursor: the query a no-op load has to run at least."""
    t = time.perf_counter()
    import connectorx as cx
    imports = time.perf_counter() - t

    t0, c0 = time.perf_counter(), time.process_time()
    rows = cx.read_sql(dsn, f"select * from {table} where updated_at >= '{cursor}'", return_type="arrow",
                       protocol="binary").num_rows
    return {"seconds": time.perf_counter() - t0, "cpu": time.process_time() - c0, "imports": imports,
            "rows": rows, "peak_rss_mib": peak_rss_mib()}


WORKERS = {"raw_check": worker_raw_check}


def prepared_project(cache: Path, pg_url: str, rows: int, chunk_size: int, disposition: str,
                     fresh: bool) -> tuple[Path, str, dict[str, Any] | None]:
    """The cached project holding a full load of events_<rows>: (its folder, the table, the full load's
    measurement if it happened now, None if reused). A project declared differently is loaded afresh."""
    table, _ = ensure_events_table(pg_url, rows)
    project = cache / f"{disposition}-{rows}"
    toml = sql_sources_toml(table, chunk_size, disposition, incremental=True)
    if (project / MARKER).is_file() and toml in (project / "elt.toml").read_text() and not fresh:
        return project, table, None
    shutil.rmtree(project, ignore_errors=True)
    write_project(project, toml)
    print(f"  full load of {table} into {project} ...", flush=True)
    full = run_worker(EXTRACT_SQL, "toolkit", {"project": str(project), "dsn": database_dsn(pg_url)}, cwd=project)
    if full["count"] != rows:
        raise SystemExit(f"the full load of {table} holds {full['count']:,} rows, expected {rows:,}")
    (project / MARKER).write_text(json.dumps(full, default=str))
    return project, table, full


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--small", type=int, default=1_000_000, help="rows of the small table (default 1000000)")
    ap.add_argument("--large", type=int, default=10_000_000, help="rows of the large table (default 10000000)")
    ap.add_argument("--repeats", type=int, default=3, help="no-op loads per size, each in a fresh process (median)")
    ap.add_argument("--chunk-size", type=int, default=100_000, help="chunk_size of the source")
    ap.add_argument("--write-disposition", choices=("append", "merge"), default="append")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "elt-bench-noop",
                    help="where the fully loaded projects are kept between runs")
    ap.add_argument("--fresh", action="store_true", help="redo the full loads instead of reusing cached projects")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help="Postgres server URL without a database")
    ap.add_argument("--check", action="store_true", help="exit 1 when the target is missed")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        return worker_main(WORKERS, args.worker, args.params)

    dsn = database_dsn(args.pg_url)
    print(f"incremental no-op: {args.write_disposition}, cursor updated_at, primary key id, chunk_size "
          f"{args.chunk_size}; source tables {DATABASE}.events_<rows>")
    print(f"{versions()}; each load in a fresh process, median of {args.repeats}")
    print("\nsetup (one full load per size, cached in " + str(args.cache_dir) + "):")
    medians: dict[int, float] = {}
    problems: list[str] = []
    report: list[str] = []
    for rows in (args.small, args.large):
        project, table, full = prepared_project(args.cache_dir, args.pg_url, rows, args.chunk_size,
                                                args.write_disposition, args.fresh)
        if full is None:
            cached = json.loads((project / MARKER).read_text())
            print(f"  {table}: reused (its full load took {cached['seconds']:.1f} s, "
                  f"{rows / cached['seconds']:,.0f} rows/s, peak RSS {cached['peak_rss_mib']:.0f} MiB)")
        else:
            print(f"  {table}: full load {full['seconds']:.1f} s, {rows / full['seconds']:,.0f} rows/s, "
                  f"peak RSS {full['peak_rss_mib']:.0f} MiB")
            print("  " + steps_line(full["steps"]))

        runs = [run_worker(EXTRACT_SQL, "toolkit", {"project": str(project), "dsn": dsn}, cwd=project)
                for _ in range(args.repeats)]
        for i, run in enumerate(runs, start=1):
            if run["count"] != rows or run["rows"] != 0:
                problems.append(f"{table} no-op run {i}: loaded {run['rows']:,} rows, table holds {run['count']:,} "
                                f"(expected 0 and {rows:,}; rerun with --fresh if the cached project is stale)")
        seconds = [run["seconds"] for run in runs]
        medians[rows] = statistics.median(seconds)
        middle = runs[seconds.index(sorted(seconds)[len(seconds) // 2])]
        raw = run_worker(SCRIPT, "raw_check", {"dsn": dsn, "table": table, "cursor": middle["cursors"]["events"]})
        peak = max(run["peak_rss_mib"] for run in runs)
        cpu = statistics.median(run["cpu"] for run in runs)
        report.append(f"  {table:<16} {rows:>11,} {medians[rows]:9.2f} s {cpu:7.2f} {peak:6.0f} MiB "
                      f"{raw['seconds']:9.3f} s   runs: " + ", ".join(f"{s:.2f}" for s in seconds))
        report.append("  " + steps_line(middle["steps"]) + f"; cursor {middle['cursors']['events']}")

    print(f"\n  {'table':<16} {'rows':>11} {'no-op':>11} {'CPU s':>7} {'peak RSS':>10} {'raw check':>11}")
    print("\n".join(report))
    ratio = medians[args.large] / medians[args.small]
    print(f"\nratio no-op large / small ({args.large:,} / {args.small:,} rows): {ratio:.2f}x   target <= "
          f"{RATIO_TARGET}: {verdict(ratio <= RATIO_TARGET)}")
    if problems:
        print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    return 1 if args.check and ratio > RATIO_TARGET else 0


if __name__ == "__main__":
    sys.exit(main())
