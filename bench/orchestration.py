"""Benchmark: what Prefect adds to a run with nothing to do, against the same stage functions called directly.

    cd /work/main && .venv/bin/python bench/orchestration.py [--models 1000] [--pairs 3] [--skip-models]
        [--skip-demo] [--no-temporary] [--check]

Every measurement is a whole fresh process; the two sides of a pair run one after the other, pairs in turn.
A `prefect server start` (SQLite, a temporary PREFECT_HOME, UI off) runs on a free loopback port throughout.

1. A generated project of `--models` models (bench/lint_compile.py's generator, seed 7: views and tables in
   chains and fan-ins, a row-count contract on every 10th mart) over raw tables of 2,000 rows written
   straight into a DuckDB file (no sources), built and published once by the flow. Then each pair:
   - flow: `elt_pipeline()` with PREFECT_API_URL set (what `elt run` runs after its own pre-checks), ending
     as `elt run` ends (elt_cli.main.exit_now: no interpreter teardown);
   - direct: the flow's stage functions without Prefect: load_project, raw catalog, make_plan (lint and
     compile), load_contracts, the publication in effect, plan_versions, the janitor's queries;
   both find every model's version published, so nothing builds. Target: flow / direct <= 1.5.
2. The demo (a copy of this repository's project, ELT_NOW fixed), run once by `elt run`; then each pair:
   - `elt run`: the CLI as a user runs it, with the running server;
   - direct: the same stage functions plus the demo's extraction (runner.load, nothing new);
   overhead = elt run - direct. Target: <= 3 s. Then `elt run` without PREFECT_API_URL (Prefect's
   temporary server, fresh and warm PREFECT_HOME), printed for reference.
Prints every pair's seconds, the ratios (min/median/max); --check exits 1 when a median misses its target.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, verdict, worker_main  # noqa: E402
from _projects import duckdb_target, generated_project, raw_shop_sql, write_config  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
ELT = Path(sys.executable).with_name("elt")
RATIO_TARGET = 1.5
DEMO_OVERHEAD_TARGET = 3.0
NOW = "2026-01-10T00:00:00Z"
RAW_ROWS = 2000
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "warehouse", ".elt", "tests", "bench", "__pycache__",
                                     "*.egg-info", ".pytest_cache", ".ruff_cache")

# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line
# ---------------------------------------------------------------------------------------------------


def worker_flow(project: str) -> dict[str, Any]:
    """The flow, as `elt run` calls it (after its own pre-checks)."""
    t = time.perf_counter()
    from flows.elt_flow import elt_pipeline
    from flows.server import cli_run
    imports = time.perf_counter() - t
    t = time.perf_counter()
    with cli_run():  # as `elt run` runs it
        summary = elt_pipeline(project_dir=project)
    seconds = time.perf_counter() - t
    built = [b.model for b in summary.builds if b.status == "built"]
    return {"imports": imports, "seconds": seconds, "built": len(built), "models": len(summary.builds),
            "build_seconds": summary.build_seconds}


def worker_direct(project: str) -> dict[str, Any]:
    """The stage functions the flow's tasks call, in the flow's order, without Prefect (a no-op run only)."""
    t = time.perf_counter()
    from checks.contracts import load_contracts
    from elt import publish as publishing
    from elt import warehouse
    from elt.config import load_project
    from sources import catalog, runner
    from transforms.build import plan_versions
    from transforms.plan import make_plan
    imports = time.perf_counter() - t

    t = time.perf_counter()
    project_ = load_project(Path(project))
    target = project_.target()
    with warehouse.exclusive(target, who="bench direct"):
        for source in project_.sources.values():
            runner.load(project_, source, target, run_id="bench-direct")
        wh = warehouse.connect(target)
        try:
            raw = catalog.raw_relations(project_, warehouse.raw_catalog(wh))
            plan = make_plan(project_.models_dir, raw, target.dialect, project_.published_schema)
            load_contracts(project_.contracts_dir, plan.outputs(), target.dialect)
            in_effect = publishing.current(wh)
            published = {**in_effect.models, **in_effect.internal} if in_effect else {}
            versions = plan_versions(wh, plan.models, plan.order, plan.outputs(), published, set(), "bench-direct")
            todo = [name for name in plan.order if published.get(name) != versions[name].relation]
            if todo:
                raise SystemExit(f"not a no-op run: {len(todo)} model(s) to build, e.g. {todo[:3]}")
            publishing.janitor(wh, project_.keep_publications, protect=set(published.values()))
        finally:
            wh.close()
    return {"imports": imports, "seconds": time.perf_counter() - t, "models": len(plan.order)}


WORKERS = {"flow": worker_flow, "direct": worker_direct}

# ---------------------------------------------------------------------------------------------------


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, dict[str, Any] | None, str]:
    """Wall-clock seconds of a whole process, the JSON line it printed last (workers), and its output."""
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - t
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-6000:])
        raise SystemExit(f"{' '.join(cmd[:4])} failed (exit {proc.returncode})")
    lines = [line for line in proc.stdout.strip().splitlines() if line.startswith("{")]
    return seconds, (json.loads(lines[-1]) if lines else None), proc.stdout


def worker_cmd(kind: str, project: Path) -> list[str]:
    return [sys.executable, SCRIPT, "--worker", kind, "--params", json.dumps({"project": str(project)})]


def base_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "ELT_NOW": NOW, "PREFECT_HOME": str(home), "RUNTIME__DLTHUB_TELEMETRY": "false",
           "SODA_CORE_TELEMETRY_ENABLED": "false", "DO_NOT_TRACK": "1", "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PYTHONPATH": str(ROOT)}
    env.pop("PREFECT_API_URL", None)
    return env


def spread(values: list[float]) -> str:
    return f"min {min(values):.2f}, median {statistics.median(values):.2f}, max {max(values):.2f}"


def bench_models(work: Path, models: int, pairs: int, env: dict[str, str]) -> tuple[float, list[str]]:
    project = write_config(work / f"models-{models}", duckdb_target())
    info = generated_project(project, models, seed=7)
    import duckdb

    con = duckdb.connect(str(project / "wh.duckdb"))
    for statement in raw_shop_sql(RAW_ROWS, "duckdb"):
        con.execute(statement)
    con.close()
    print(f"\n1. {info['models']} generated models ({info['staging']} staging views, {info['edges']} model edges, "
          f"depth {info['max_depth']}, {info['contracts']} contracts), raw tables of {RAW_ROWS:,} rows, DuckDB")
    seconds, first, _ = timed(worker_cmd("flow", project), project, env)
    print(f"   first run through the flow (builds and verifies everything, threads 4): {seconds:.1f} s "
          f"(build and verify {first['build_seconds']:.1f} s, {first['built']} built)")
    rows, ratios = [], []
    for _ in range(pairs):
        flow_s, flow, _ = timed(worker_cmd("flow", project), project, env)
        direct_s, direct, _ = timed(worker_cmd("direct", project), project, env)
        if flow["built"]:
            raise SystemExit(f"the no-op flow run built {flow['built']} model(s)")
        ratios.append(flow_s / direct_s)
        rows.append(f"   {flow_s:8.2f} s {flow['imports']:8.2f} s {flow['seconds']:8.2f} s   "
                    f"{direct_s:8.2f} s {direct['imports']:8.2f} s {direct['seconds']:8.2f} s   {ratios[-1]:5.2f}x")
    print(f"   no-op runs, whole processes: {'flow':>9} {'imports':>10} {'flow()':>10}   {'direct':>10} "
          f"{'imports':>10} {'stages':>10}   ratio")
    print("\n".join(rows))
    median = statistics.median(ratios)
    line = (f"ratio no-op flow / direct stage calls ({models} models): {spread(ratios)}   target <= {RATIO_TARGET}: "
            f"{verdict(median <= RATIO_TARGET)}")
    print(line)
    return median, [line]


def bench_demo(work: Path, pairs: int, env: dict[str, str], temporary: bool) -> tuple[float, list[str]]:
    project = work / "demo"
    shutil.copytree(ROOT, project, ignore=COPY_IGNORE)
    print("\n2. the demo project (one source, 6 models, 3 contracts), DuckDB")
    seconds, _, out = timed([str(ELT), "run"], project, env)
    print(f"   first `elt run` (extracts, builds, verifies, publishes): {seconds:.1f} s")
    overheads, directs, rows = [], [], []
    for _ in range(pairs):
        run_s, _, out = timed([str(ELT), "run"], project, env)
        if "published nothing new" not in out:
            raise SystemExit(f"the demo's second `elt run` was not a no-op:\n{out}")
        direct_s, direct, _ = timed(worker_cmd("direct", project), project, env)
        overheads.append(run_s - direct_s)
        directs.append(direct_s)
        rows.append(f"   {run_s:8.2f} s   {direct_s:8.2f} s {direct['imports']:8.2f} s {direct['seconds']:8.2f} s   "
                    f"{overheads[-1]:6.2f} s")
    print(f"   no-op runs, whole processes:   {'elt run':>8}   {'direct':>10} {'imports':>10} {'stages':>10}   "
          "overhead")
    print("\n".join(rows))
    median = statistics.median(overheads)
    line = (f"overhead no-op `elt run` - its work (demo, running server): {spread(overheads)} s   target <= "
            f"{DEMO_OVERHEAD_TARGET} s: {verdict(median <= DEMO_OVERHEAD_TARGET)}")
    print(line)
    if temporary:
        local = {k: v for k, v in env.items() if k != "PREFECT_API_URL"} | {"PREFECT_HOME": str(work / "temp-home")}
        fresh, _, _ = timed([str(ELT), "run"], project, local)
        warm, _, _ = timed([str(ELT), "run"], project, local)
        print(f"   without a server (Prefect's temporary server): no-op `elt run` {fresh:.2f} s on a fresh "
              f"PREFECT_HOME, {warm:.2f} s on a warm one; overhead {warm - statistics.median(directs):.2f} s "
              "(for reference, no target)")
    return median, [line]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1000, help="models of the generated project (default 1000)")
    ap.add_argument("--pairs", type=int, default=3, help="flow/direct pairs per measurement (default 3)")
    ap.add_argument("--skip-models", action="store_true", help="skip the generated project")
    ap.add_argument("--skip-demo", action="store_true", help="skip the demo project")
    ap.add_argument("--no-temporary", action="store_true", help="skip the runs without a server")
    ap.add_argument("--keep", action="store_true", help="keep the projects and print where")
    ap.add_argument("--check", action="store_true", help="exit 1 when a median misses its target")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker == "flow":  # ends as `elt run` ends (elt_cli.main.exit_now), which is what a user waits for
        from elt_cli.main import exit_now

        exit_now(worker_main(WORKERS, args.worker, args.params))
    if args.worker:
        return worker_main(WORKERS, args.worker, args.params)

    from tests.prefect_server import prefect_server

    work = Path(tempfile.mkdtemp(prefix="elt-bench-orchestration-"))
    (work / "server").mkdir()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; each run a whole fresh process; "
          f"{args.pairs} pair(s) per measurement, taken in turn")
    ok = True
    try:
        started = time.perf_counter()
        with prefect_server(work / "server") as api:
            print(f"prefect server (SQLite) at {api}, healthy after {time.perf_counter() - started:.1f} s")
            env = base_env(work / "client-home") | {"PREFECT_API_URL": api}
            if not args.skip_models:
                median, _ = bench_models(work, args.models, args.pairs, env)
                ok = ok and median <= RATIO_TARGET
            if not args.skip_demo:
                median, _ = bench_demo(work, args.pairs, env, not args.no_temporary)
                ok = ok and median <= DEMO_OVERHEAD_TARGET
        return 1 if args.check and not ok else 0
    finally:
        if args.keep:
            print(f"\nkept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
