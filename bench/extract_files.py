"""Benchmark: loading a Parquet file and the same data as CSV into a fresh DuckDB file, toolkit vs DuckDB.

    cd /work/main && .venv/bin/python bench/extract_files.py [--rows 2000000] [--chunk-rows 100000] [--runs 1]
        [--cache-dir /tmp/elt-bench-files-<rows>] [--profile parquet|csv|csv_declared] [--check]

1. Writes, once (reused while `<cache-dir>/complete.json` exists), `rows` deterministic rows of 6 columns
   (id, customer_id bigint; kind text; amount double; created_at, updated_at timestamp UTC) with pyarrow to
   `<cache-dir>/parquet/events.parquet` and `<cache-dir>/csv/events.csv`.
2. Measures, each in a fresh process (peak RSS is per measurement), taking turns when --runs > 1:
   - toolkit: a fresh project + DuckDB file, `runner.load` of a filesystem source whose resource `events`
     globs the file: parquet; csv (types inferred by pyarrow); csv with declared `columns` (read as text,
     then checked and cast by sources/validate.py);
   - raw: DuckDB alone, `create table events as select * from read_parquet(...)` / `read_csv(...)` /
     `read_csv(..., columns = {...})` with the declared types.
3. Prints seconds, CPU seconds, rows/s, peak RSS, dlt's step timings and the ratio toolkit / DuckDB per
   format (target <= 2). Every result must hold exactly `rows` rows and no dead letters (exit 1 otherwise);
   with --check, a missed target exits 1 too. --profile CASE adds a cProfile of that toolkit load (extra
   process).
"""
from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
    duckdb_count,
    header,
    interleaved,
    line,
    peak_rss_mib,
    ratio_line,
    run_worker,
    steps_line,
    toolkit_load,
    versions,
    worker_main,
    write_project,
)

SCRIPT = str(Path(__file__).resolve())
RATIO_TARGET = 2.0
TOOLKIT_TABLE = "raw_drops.events"
EPOCH_2024 = 1_704_067_200
# name -> (declared toolkit type, DuckDB type)
COLUMNS = {"id": ("bigint", "BIGINT"), "customer_id": ("bigint", "BIGINT"), "kind": ("text", "VARCHAR"),
           "amount": ("double", "DOUBLE"), "created_at": ("timestamp", "TIMESTAMPTZ"),
           "updated_at": ("timestamp", "TIMESTAMPTZ")}
# case -> (file format, declared columns?, what DuckDB reads it with)
CASES = {"parquet": ("parquet", False, "read_parquet"), "csv": ("csv", False, "read_csv"),
         "csv_declared": ("csv", True, "read_csv + columns")}


# ---------------------------------------------------------------------------------------------------
# The files
# ---------------------------------------------------------------------------------------------------

def ensure_files(cache: Path, rows: int) -> tuple[dict[str, Path], float | None]:
    """The Parquet and CSV files in `cache`, written if missing; returns them and the seconds writing took
    (None when they were reused)."""
    files = {"parquet": cache / "parquet" / "events.parquet", "csv": cache / "csv" / "events.csv"}
    marker = cache / "complete.json"
    if marker.is_file() and json.loads(marker.read_text())["rows"] == rows:
        return files, None
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    t = time.perf_counter()
    ids = pa.array(np.arange(1, rows + 1, dtype=np.int64))
    created = pc.add(pc.multiply(ids, 15), EPOCH_2024)  # seconds
    updated = pc.add(created, pc.remainder(pc.multiply(ids, 7907), 86400))
    table = pa.table({
        "id": ids,
        "customer_id": pc.remainder(pc.multiply(ids, 7919), 100003),
        "kind": pc.take(pa.array(["view", "click", "cart", "order", "refund"]), pc.remainder(ids, 5)),
        "amount": pc.divide(pc.cast(pc.remainder(pc.multiply(ids, 37), 100000), pa.float64()), 100.0),
        "created_at": pc.cast(pc.multiply(created, 1_000_000), pa.timestamp("us", tz="UTC")),
        "updated_at": pc.cast(pc.multiply(updated, 1_000_000), pa.timestamp("us", tz="UTC")),
    })
    for path in files.values():
        path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, files["parquet"])
    pacsv.write_csv(table, files["csv"])
    marker.write_text(json.dumps({"rows": rows}))
    return files, time.perf_counter() - t


def files_sources_toml(folder: Path, fmt: str, declared: bool, chunk_rows: int) -> str:
    """`[sources.drops]`: a filesystem source whose resource `events` is every *.<fmt> file of `folder`."""
    toml = (f'[sources.drops]\nkind = "filesystem"\nbucket_url = "{folder}"\nchunk_rows = {chunk_rows}\n\n'
            f'[sources.drops.resources.events]\nglob = "*.{fmt}"\nwrite_disposition = "append"\n')
    if declared:
        toml += "columns = { " + ", ".join(f'{name} = "{kind}"' for name, (kind, _) in COLUMNS.items()) + " }\n"
    return toml


def duckdb_reader(case: str, path: Path) -> str:
    """The DuckDB table function that reads `path` the way the toolkit does in `case` (types inferred or declared)."""
    if case == "parquet":
        return f"read_parquet('{path}')"
    if CASES[case][1]:
        types = ", ".join(f"'{name}': '{sql}'" for name, (_, sql) in COLUMNS.items())
        return f"read_csv('{path}', header = true, columns = {{{types}}})"
    return f"read_csv('{path}')"


# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line
# ---------------------------------------------------------------------------------------------------

def worker_toolkit(project: str, profile_top: int = 0) -> dict[str, Any]:
    """runner.load of `[sources.drops]` in the (fresh) project; the loaded table is counted afterwards."""
    project_dir = Path(project)
    result = toolkit_load(project_dir, "drops", profile_top)
    result["count"] = duckdb_count(project_dir / "wh.duckdb", TOOLKIT_TABLE)
    return result


def worker_raw(db_file: str, reader: str) -> dict[str, Any]:
    """DuckDB alone: create table events as select * from <reader>."""
    t = time.perf_counter()
    import duckdb
    imports = time.perf_counter() - t
    import_rss = peak_rss_mib()

    t0, c0 = time.perf_counter(), time.process_time()
    con = duckdb.connect(db_file)
    con.execute(f"create table events as select * from {reader}")
    con.close()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {"seconds": seconds, "cpu": cpu, "imports": imports, "import_rss_mib": import_rss,
            "peak_rss_mib": peak_rss_mib(), "count": duckdb_count(Path(db_file), "events")}


WORKERS = {"toolkit": worker_toolkit, "raw": worker_raw}

# ---------------------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the files (default 2000000)")
    ap.add_argument("--chunk-rows", type=int, default=100_000, help="chunk_rows of the filesystem source")
    ap.add_argument("--runs", type=int, default=1, help="fresh-process runs per measurement; the median is reported")
    ap.add_argument("--cache-dir", type=Path, help="where the files are kept (default /tmp/elt-bench-files-<rows>)")
    ap.add_argument("--profile", choices=CASES, help="also cProfile one toolkit load of this case (extra process)")
    ap.add_argument("--top", type=int, default=30, help="rows of profile output")
    ap.add_argument("--keep", action="store_true", help="keep the projects and DuckDB files and print where")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        return worker_main(WORKERS, args.worker, args.params)

    cache = args.cache_dir or Path(tempfile.gettempdir()) / f"elt-bench-files-{args.rows}"
    files, written = ensure_files(cache, args.rows)
    rows = args.rows
    sizes = ", ".join(f"{fmt} {path.stat().st_size / 2**20:.0f} MiB" for fmt, path in files.items())
    print(f"files: {rows:,} rows x {len(COLUMNS)} columns in {cache} ({sizes})"
          + (f", written in {written:.1f} s" if written is not None else ", reused"))
    print(f"toolkit: filesystem source, chunk_rows {args.chunk_rows}, append, first load")
    print(f"{versions()}; each measurement in a fresh process, runs={args.runs} (median)")

    work = Path(tempfile.mkdtemp(prefix="elt-bench-files-run-"))
    counter = itertools.count()

    def toolkit(case: str, profile_top: int = 0) -> dict[str, Any]:
        fmt, declared, _ = CASES[case]
        toml = files_sources_toml(files[fmt].parent, fmt, declared, args.chunk_rows)
        project = write_project(work / f"toolkit-{case}-{next(counter)}", toml)
        return run_worker(SCRIPT, "toolkit", {"project": str(project), "profile_top": profile_top}, cwd=project)

    def raw(case: str) -> dict[str, Any]:
        db_file = work / f"raw-{case}-{next(counter)}.duckdb"
        reader = duckdb_reader(case, files[CASES[case][0]])
        return run_worker(SCRIPT, "raw", {"db_file": str(db_file), "reader": reader}, cwd=work)

    try:
        results = {}
        for case in CASES:
            measured = interleaved(args.runs, {"toolkit": partial(toolkit, case), "raw": partial(raw, case)})
            results[case] = measured["toolkit"], measured["raw"]

        print("\n" + header())
        problems: list[str] = []
        missed = False
        ratios: list[str] = []
        for case, (tk, rw) in results.items():
            fmt, declared, raw_reader = CASES[case]
            print(line(f"toolkit  {fmt}" + (" + declared columns" if declared else ""), tk, rows))
            print(steps_line(tk["steps"]))
            print(line(f"raw      DuckDB {raw_reader}", rw, rows))
            if args.runs > 1:
                print("    runs: toolkit " + ", ".join(f"{s:.2f}" for s in tk["all_seconds"])
                      + "; raw " + ", ".join(f"{s:.2f}" for s in rw["all_seconds"]))
            ratios.append(ratio_line(f"toolkit / DuckDB {case}", tk, rw, RATIO_TARGET))
            missed = missed or tk["seconds"] / rw["seconds"] > RATIO_TARGET
            for label, count in (("toolkit loaded", tk["count"]), ("toolkit LoadResult", tk["rows"]),
                                 ("raw", rw["count"])):
                if count != rows:
                    problems.append(f"{case}: {label} has {count:,} rows, expected {rows:,}")
            if tk["dead_letters"]:
                problems.append(f"{case}: {tk['dead_letters']:,} rows went to dead letters")

        print("\n" + "\n".join(ratios))
        print("row counts: " + ("all " + format(rows, ",") + ", no dead letters" if not problems else "WRONG"))

        if args.profile:
            prof = toolkit(args.profile, args.top)
            print(f"\ncProfile of one toolkit load of {args.profile} ({prof['seconds']:.2f} s under the profiler; "
                  "dlt's load step runs in worker threads the profiler does not see), by cumulative time:\n"
                  + prof["profile_cumulative"])
            print("by own time:\n" + prof["profile_tottime"])

        if problems:
            print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        if args.check and missed:
            return 1
        return 0
    finally:
        if args.keep:
            print(f"\nkept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
