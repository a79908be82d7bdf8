"""Shared plumbing of the extraction benchmarks (extract_sql.py, extract_files.py, incremental_noop.py).

Every measurement runs in a fresh interpreter. `whole_process` times a command as a user waits for it, from
spawn to exit, with the kernel's CPU and peak-memory accounting of that one process; `run_worker` runs a
bench's own in-process measurement (profiles, step timings) and parses the JSON line it prints last.
"""
from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MIB = 1024  # VmHWM and ru_maxrss are in KiB
RSS_TARGET_MIB = 1024.0


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (and of any child it waited for), in MiB.

    The kernel's high-water mark of this program's memory (VmHWM), not `ru_maxrss`: a process started by
    fork + exec inherits the parent's ru_maxrss, so a worker would report its parent's size.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        own = next(int(row.split()[1]) for row in status if row.startswith("VmHWM:"))
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / MIB


def run_worker(script: str, kind: str, params: dict[str, Any], cwd: Path | None = None) -> dict[str, Any]:
    """Run `script --worker kind --params JSON` in a fresh interpreter and return the JSON it prints last."""
    cmd = [sys.executable, script, "--worker", kind, "--params", json.dumps(params)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd or ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"worker {kind} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def whole_process(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run `cmd` to its exit: wall seconds from spawn to exit, CPU seconds (user + system, all its threads) and
    peak RSS of that process as the kernel counted them (wait4), and what it printed. Fails on a non-zero exit."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.stderr.write(stdout[-4000:] + stderr[-8000:])
        raise SystemExit(f"{' '.join(cmd[:3])} ... failed (exit {proc.returncode})")
    return {"seconds": seconds, "cpu": usage.ru_utime + usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / MIB,
            "stdout": stdout, "stderr": stderr}


def spread(values: list[float], digits: int = 2) -> str:
    """`median (min-max)` of a bench's figures over its pairs."""
    return (f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
            if values else "-")




def write_project(directory: Path, sources_toml: str) -> Path:
    """A minimal project in `directory`: one DuckDB target `dev` (wh.duckdb) and the given [sources.*] text."""
    directory.mkdir(parents=True, exist_ok=True)
    for folder in ("transforms/models", "checks/contracts"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    (directory / "elt.toml").write_text(
        '[project]\nname = "bench"\n\n[targets.dev]\ntype = "duckdb"\npath = "wh.duckdb"\n\n' + sources_toml,
        encoding="utf-8")
    return directory


def toolkit_load(project_dir: Path, source_name: str, profile_top: int = 0) -> dict[str, Any]:
    """Time `runner.load` of one source of the project in `project_dir` (imports timed separately).

    Returns seconds, CPU seconds (all threads of the process), the rows the load reported, dlt's step
    timings and memory figures; with `profile_top`, also the cProfile hotspots of the load (then its seconds
    include the profiler's overhead).
    """
    t = time.perf_counter()
    from elt.config import load_project
    from sources import runner
    imports = time.perf_counter() - t
    import_rss = peak_rss_mib()

    project = load_project(project_dir)
    source, target = project.sources[source_name], project.target("dev")
    profiler = cProfile.Profile() if profile_top else None
    t0, c0 = time.perf_counter(), time.process_time()
    if profiler:
        profiler.enable()
    result = runner.load(project, source, target)
    if profiler:
        profiler.disable()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mib()
    measured = {"seconds": seconds, "cpu": cpu, "imports": imports, "rows": result.total_rows,
                "dead_letters": result.dead_letters, "cursors": result.cursors,
                "steps": dlt_steps(runner.pipeline_for(project, source, target)),
                "import_rss_mib": import_rss, "peak_rss_mib": peak}
    if profiler:
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(profile_top)
            measured[f"profile_{key}"] = buf.getvalue()
    return measured


def dlt_steps(pipeline: Any) -> dict[str, float]:
    """Seconds of each step (extract, normalize, load) of the pipeline's last run, from the trace dlt saved."""
    trace = pipeline.last_trace
    return {step.step: (step.finished_at - step.started_at).total_seconds() for step in trace.steps
            if step.finished_at is not None} if trace else {}


def duckdb_count(path: Path, table: str) -> int:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


def worker_main(workers: dict[str, Callable[..., dict[str, Any]]], kind: str, params: str) -> int:
    """The `--worker` entry point of a benchmark script: run one worker, print its result as one JSON line."""
    print(json.dumps(workers[kind](**json.loads(params)), default=str))
    return 0


def versions() -> str:
    return (f"python {sys.version.split()[0]}, dlt {version('dlt')}, connectorx {version('connectorx')}, "
            f"duckdb {version('duckdb')}, pyarrow {version('pyarrow')}; {os.cpu_count()} cores")








def steps_line(steps: dict[str, float]) -> str:
    return "    dlt steps: " + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in steps.items())


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"
