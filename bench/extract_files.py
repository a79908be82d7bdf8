"""Benchmark: loading a Parquet file and the same data as CSV into a fresh DuckDB file, toolkit vs DuckDB.

    cd /work/main && .venv/bin/python bench/extract_files.py [--rows 2000000] [--chunk-rows 100000] [--pairs 3]
        [--cache-dir /tmp/elt-bench-files-<rows>] [--profile parquet|csv|csv_declared] [--check]

1. Writes, once (reused while `<cache-dir>/complete.json` exists), `rows` deterministic rows of 6 columns
   (id, customer_id bigint; kind text; amount double; created_at, updated_at timestamp UTC) with pyarrow to
   `<cache-dir>/parquet/events.parquet` and `<cache-dir>/csv/events.csv`.
2. Measures whole processes (start-up, imports and exit included), toolkit and raw in turn, `--pairs` times:
   - toolkit: `elt extract drops` in a fresh project + DuckDB file, a filesystem source whose resource
     `events` globs the file: parquet; csv (types inferred by pyarrow); csv with declared `columns` (read
     as text, then checked and cast by sources/validate.py, rows that do not fit to dead letters);
   - raw: a Python process running DuckDB alone, `create table events as select * from read_parquet(...)` /
     `read_csv(...)` / `read_csv(..., columns = {...})` with the declared types.
3. Prints per format the ratio toolkit / DuckDB, wall and CPU, as median (min-max) over the pairs, and
   peak RSS. Targets: parquet and csv <= 1.5, csv with declared columns <= 2. Every result must hold
   exactly `rows` rows and no dead letters (exit 1 otherwise); with --check, a missed target exits 1 too.
   --profile CASE adds a cProfile of that toolkit load in process (extra process) with dlt's step timings.
"""
from __future__ import annotations

import argparse
import itertools
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import (  # noqa: E402
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
ELT = str(Path(sys.executable).parent / "elt")
TOOLKIT_TABLE = "raw_drops.events"
EPOCH_2024 = 1_704_067_200
# name -> (declared toolkit type, DuckDB type)
COLUMNS = {"id": ("bigint", "BIGINT"), "customer_id": ("bigint", "BIGINT"), "kind": ("text", "VARCHAR"),
           "amount": ("double", "DOUBLE"), "created_at": ("timestamp", "TIMESTAMPTZ"),
           "updated_at": ("timestamp", "TIMESTAMPTZ")}
# case -> (file format, declared columns?, what DuckDB reads it with, target ratio)
CASES = {"parquet": ("parquet", False, "read_parquet", 1.5), "csv": ("csv", False, "read_csv", 1.5),
         "csv_declared": ("csv", True, "read_csv + columns", 2.0)}


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

def worker_profile(project: str, profile_top: int) -> dict[str, Any]:
    """runner.load of `[sources.drops]` in the (fresh) project under cProfile, with dlt's step timings."""
    return toolkit_load(Path(project), "drops", profile_top)


def worker_raw(db_file: str, reader: str) -> dict[str, Any]:
    """DuckDB alone: create table events as select * from <reader>."""
    import duckdb

    con = duckdb.connect(db_file)
    con.execute(f"create table events as select * from {reader}")
    con.close()
    return {}


WORKERS = {"profile": worker_profile, "raw": worker_raw}

# ---------------------------------------------------------------------------------------------------


def dead_letters(db_file: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db_file), read_only=True)
    try:
        found = con.execute("select count(*) from information_schema.tables where table_schema = 'raw_drops' "
                            "and table_name = '_dead_letters'").fetchone()[0]
        return con.execute("select count(*) from raw_drops._dead_letters").fetchone()[0] if found else 0
    finally:
        con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000, help="rows of the files (default 2000000)")
    ap.add_argument("--chunk-rows", type=int, default=100_000, help="chunk_rows of the filesystem source")
    ap.add_argument("--pairs", type=int, default=3, help="toolkit and raw runs in turn, per format (default 3)")
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
    print(f"toolkit: `elt extract`, filesystem source, chunk_rows {args.chunk_rows}, append, first load")
    print(f"{versions()}; whole processes, toolkit and raw in turn, {args.pairs} pair(s) per format")

    work = Path(tempfile.mkdtemp(prefix="elt-bench-files-run-"))
    counter = itertools.count()

    def project_for(case: str) -> Path:
        fmt, declared, _, _ = CASES[case]
        toml = files_sources_toml(files[fmt].parent, fmt, declared, args.chunk_rows)
        return write_project(work / f"toolkit-{case}-{next(counter)}", toml)

    try:
        problems: list[str] = []
        missed = False
        for case, (fmt, _, raw_reader, target) in CASES.items():
            walls, cpus, rss = [], [], {"toolkit": 0.0, "raw": 0.0}
            for _ in range(args.pairs):
                project = project_for(case)
                tk = whole_process([ELT, "extract", "drops"], cwd=project)
                db_file = work / f"raw-{case}-{next(counter)}.duckdb"
                raw = whole_process([sys.executable, SCRIPT, "--worker", "raw", "--params", json.dumps(
                    {"db_file": str(db_file), "reader": duckdb_reader(case, files[fmt])})], cwd=work)
                walls.append(tk["seconds"] / raw["seconds"])
                cpus.append(tk["cpu"] / raw["cpu"])
                rss = {"toolkit": max(rss["toolkit"], tk["peak_rss_mib"]),
                       "raw": max(rss["raw"], raw["peak_rss_mib"])}
                print(f"  {case:<13} toolkit {tk['seconds']:6.2f} s ({tk['cpu']:5.2f} s CPU)   "
                      f"raw {raw['seconds']:6.2f} s ({raw['cpu']:5.2f} s CPU)   ratio {walls[-1]:.2f}")
                for label, count in (("toolkit", duckdb_count(project / "wh.duckdb", TOOLKIT_TABLE)),
                                     ("raw", duckdb_count(db_file, "events"))):
                    if count != rows:
                        problems.append(f"{case}: {label} has {count:,} rows, expected {rows:,}")
                if dead_letters(project / "wh.duckdb"):
                    problems.append(f"{case}: rows went to dead letters")
            met = statistics.median(walls) <= target
            missed = missed or not met
            print(f"ratio toolkit / DuckDB {raw_reader:<19} {spread(walls)}  (CPU {spread(cpus)})   "
                  f"target <= {target}: {verdict(met)}   peak RSS toolkit {rss['toolkit']:.0f} MiB, "
                  f"raw {rss['raw']:.0f} MiB")
        print("row counts: " + ("all " + format(rows, ",") + ", no dead letters" if not problems else "WRONG"))

        if args.profile:
            prof = run_worker(SCRIPT, "profile", {"project": str(project_for(args.profile)), "profile_top": args.top})
            print(f"\ncProfile of one toolkit load of {args.profile} in process ({prof['seconds']:.2f} s under the "
                  "profiler; dlt's load step runs in worker threads the profiler does not see)")
            print(steps_line(prof["steps"]))
            print("by cumulative time:\n" + prof["profile_cumulative"])
            print("by own time:\n" + prof["profile_tottime"])

        if problems:
            print("\nFAILED:\n  " + "\n  ".join(problems), file=sys.stderr)
            return 1
        return 1 if args.check and missed else 0
    finally:
        if args.keep:
            print(f"\nkept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
