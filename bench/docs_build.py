"""Benchmark: `elt docs` of a generated N-model project as a whole process (start-up, imports, exit included).

    .venv/bin/python bench/docs_build.py [--models 1000] [--seed 7] [--runs 5] [--check]

The project is bench/lint_compile.py's generator (via bench/_projects.py) with its raw tables in a DuckDB
warehouse (1,000 rows each) and nothing published: every model is linted, traced column by column and gets
a page. Prints min/median/max seconds over `--runs` processes, the pages written and the largest page's
size. `--check` exits 1 when the median exceeds 10 s.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _projects import duckdb_target, generated_project, raw_shop_sql, write_config  # noqa: E402

TARGET_SECONDS = 10.0
ELT = Path(sys.executable).parent / "elt"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the median exceeds {TARGET_SECONDS:g} s")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        project = write_config(Path(tmp) / "project", duckdb_target())
        figures = generated_project(project, args.models, args.seed)
        with duckdb.connect(str(project / "wh.duckdb")) as con:
            for statement in raw_shop_sql(1000, "duckdb"):
                con.execute(statement)
        print(f"project: {figures['models']} models ({figures['staging']} staging), {figures['edges']} edges, "
              f"depth {figures['max_depth']}, {figures['contracts']} contracts")
        seconds = []
        for _ in range(args.runs):
            started = time.perf_counter()
            proc = subprocess.run([str(ELT), "docs", "--out", "site"], cwd=project, capture_output=True, text=True)
            seconds.append(time.perf_counter() - started)
            if proc.returncode != 0:
                sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
                raise SystemExit(f"elt docs failed (exit {proc.returncode})")
        site = project / "site"
        pages = sorted((p.stat().st_size, str(p.relative_to(site))) for p in site.rglob("*.html"))
        total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    median = statistics.median(seconds)
    print(f"elt docs, whole process, {args.runs} runs: min {min(seconds):.2f} s  median {median:.2f} s  "
          f"max {max(seconds):.2f} s  (target <= {TARGET_SECONDS:g} s)")
    print(f"pages: {len(pages)}; largest page: {pages[-1][1]}, {pages[-1][0]:,} bytes; site total {total:,} bytes")
    if args.check and median > TARGET_SECONDS:
        print(f"MISSED: median {median:.2f} s > {TARGET_SECONDS:g} s")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
