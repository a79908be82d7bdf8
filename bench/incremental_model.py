"""Benchmark: an incremental model's run costs what changed; a full rebuild costs the table; rollback is a pointer.

    cd /work/main && .venv/bin/python bench/incremental_model.py [--engines duckdb postgres]
        [--duckdb-rows 10000000] [--pg-rows 2000000] [--delta-rows 10000] [--customers 100000] [--runs 3]
        [--cache-dir /tmp/elt-bench-incremental] [--fresh] [--pg-url URL] [--no-trace] [--check]

1. Set-up (not timed; cached under --cache-dir, redone with --fresh or when sizes or the model change): two
   projects, `<cache>/incremental/` and `<cache>/full/`, each with elt.toml (target `dev`: DuckDB file
   wh.duckdb; target `pg`: Postgres from $BENCH_INCR_PG_DSN / $BENCH_FULL_PG_DSN, the scratch databases
   `elt_bench_incr_<rows>` / `elt_bench_full_<rows>` that the bench creates), one model `orders` (a filter, a
   projection and a left join of raw_bench.orders to the raw_bench.customers dimension) and its contract
   checks/contracts/orders.yml (missing, duplicate order_id, invalid status values, invalid amount, row_count).
   In `incremental/` the model
   is `-- materialized: incremental` with `-- unique_key: order_id`; in `full/` the same SQL is a plain
   `table`. The raw tables (order_id, customer_id, status, amount, updated_at, `_dlt_load_id`, `_dlt_id`) are
   written with SQL into the incremental warehouse and copied to the full one (bench/_incremental_data.py),
   then each project's model is built and published once.
2. Pairs (`--runs`, default 3), per engine, after one untimed warm-up pair: a raw delta of --delta-rows rows
   (half new ids, half updates of existing ids, one new `_dlt_load_id`; merged as dlt merges: an updated id's
   old row is replaced) is applied to both warehouses, not timed; then, each a whole fresh `python` process
   (start-up, imports and exit included), timed from outside:
   - incremental: plan (lint + compile + versions) -> build (a new batch of the storage table) -> verify
     (the contract on the delta view, order_id against the earlier rows) -> gate -> publish (re-point
     analytics.orders) -> janitor -> compact, the stage functions flows/elt_flow.py calls, without Prefect;
   - full rebuild: the same steps for the `table` model (a new 10M-row table, verified whole).
   With each pair, the floor: a process that only starts Python and imports the stage modules.
   After each incremental run: analytics.orders must hold as many rows as raw_bench.orders has passing the
   model's filter, no order_id twice, and the same count, sum(amount) and row hash as the full rebuild over the
   same raw data (exit 1 otherwise). Ratio incremental / full per pair, min / median / max; targets (median):
   <= 0.05 on DuckDB, <= 0.1 on Postgres.
3. Rollback, per engine, `--runs` times each way, right after an incremental publication: the real CLI
   (`.venv/bin/elt --project DIR rollback --target T`) as a whole process, and a worker process calling
   elt.publish.rollback (its in-process time printed too). The answers after rollback (count, sum(amount), row
   hash) must equal those before that publication, and the next run, which reads that load again, must give
   the rolled-back answers exactly (exit 1 otherwise). Target: CLI median <= 1 s on DuckDB.
4. Where the time goes (unless --no-trace): one more incremental run whose worker times each stage and every SQL
   statement the toolkit sends on its connection (Soda's own queries are not traced; they count in "verify").
--check: a missed target exits 1. Peak RSS is each worker's own high-water mark (VmHWM).

Postgres: --pg-url (default $ELT_BENCH_PG_URL or postgresql://postgres:bench@127.0.0.1:5432), a server URL
without a database; the scratch databases are kept between runs (dropped and recreated by --fresh).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _incremental_data as data  # noqa: E402
from _harness import ROOT, peak_rss_mib, verdict  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
ELT_CLI = str(Path(sys.executable).with_name("elt"))
DEFAULT_PG_URL = os.environ.get("ELT_BENCH_PG_URL", "postgresql://postgres:bench@127.0.0.1:5432")
DATABASES = {"incremental": "elt_bench_incr_{rows}", "full": "elt_bench_full_{rows}"}  # scratch, one pair per size
TARGETS = {"duckdb": "dev", "postgres": "pg"}
RATIO_TARGETS = {"duckdb": 0.05, "postgres": 0.1}
ROLLBACK_TARGET = {"duckdb": 1.0}  # seconds, the CLI as a whole process
SETUP_VERSION = 1  # bump when the generated data changes shape
# What a stage process imports before any work: with the interpreter's start-up and exit, the floor of a run.
FLOOR = ("import checks.contracts, checks.gate, checks.verify, elt.clock, elt.config, elt.publish, elt.warehouse, "
         "transforms.build, transforms.plan")

# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line last
# ---------------------------------------------------------------------------------------------------


def worker_stage(project: str, target: str, run_id: str, trace: bool = False) -> dict[str, Any]:
    """The transform part of a run, as flows/elt_flow.py sequences it: plan, build, verify, gate, publish,
    janitor, compact. Raw relations come from the warehouse catalog, as `catalog.raw_relations` gives them for a
    project without sources (without importing dlt, which only extraction needs)."""
    started = time.perf_counter()
    steps: dict[str, float] = {}
    mark = [started]

    def step(name: str) -> None:
        now = time.perf_counter()
        steps[name] = steps.get(name, 0.0) + now - mark[0]
        mark[0] = now

    from checks.contracts import load_contracts
    from checks.gate import decide
    from checks.verify import verify_build
    from elt import clock, warehouse
    from elt import publish as publishing
    from elt.config import load_project
    from transforms.build import build_model, compact, model_of, plan_versions
    from transforms.plan import make_plan
    step("imports")

    proj = load_project(Path(project))
    target_ = proj.target(target)
    warehouse.check_runnable(target_)
    statements: list[tuple[str, str, float]] = []
    current = ["connect"]
    with warehouse.exclusive(target_, who=f"bench {run_id}"):
        wh = warehouse.connect(target_)
        if trace:
            execute = wh.execute

            def traced(sql: str, params: list | None = None) -> Any:
                t = time.perf_counter()
                try:
                    return execute(sql, params)
                finally:
                    statements.append((current[0], " ".join(sql.split()), time.perf_counter() - t))

            wh.execute = traced  # type: ignore[method-assign]
        step("connect")
        try:
            current[0] = "plan"
            raw = {table: list(columns) for table, columns in warehouse.raw_catalog(wh).items()}
            plan = make_plan(proj.models_dir, raw, target_.dialect, proj.published_schema)
            contracts = load_contracts(proj.contracts_dir, plan.outputs(), target_.dialect)
            in_effect = publishing.current(wh)
            published = {**in_effect.models, **in_effect.internal} if in_effect else {}
            versions = plan_versions(wh, plan.models, plan.order, plan.outputs(), published, set(), run_id)
            step("plan")

            current[0] = "build"
            todo = [name for name in plan.order if published.get(name) != versions[name].relation]
            builds = [build_model(wh, plan.models[name], versions) for name in todo]
            step("build")

            current[0] = "verify"
            now = clock.now()
            outcomes = [o for b in builds if b.model in contracts
                        for o in verify_build(wh, contracts[b.model], b.audited, now, candidate=b.relation)]
            gate = decide(outcomes)
            step("verify")
            if not gate.passed:
                raise SystemExit(gate.explain())

            current[0] = "publish"  # the flow's publish task
            before = publishing.current(wh)
            kept = {**before.models, **before.internal} if before else {}
            relations = {m: r for m, r in kept.items() if model_of(m) in plan.models} | versions.relations()
            public = {m: r for m, r in relations.items() if m in plan.models and plan.models[m].published}
            internal = {m: r for m, r in relations.items() if m not in public}
            publication = publishing.publish(wh, proj.published_schema, run_id, public, gate.summary, internal)
            step("publish")
            current[0] = "janitor"
            dropped = publishing.janitor(wh, proj.keep_publications, protect=set(versions.relations().values()))
            step("janitor")
            current[0] = "compact"
            compact(wh, publishing.history(wh, limit=proj.keep_publications))
            step("compact")
        finally:
            wh.close()
    step("close")
    return {"seconds": time.perf_counter() - started, "steps": steps, "peak_rss_mib": peak_rss_mib(),
            "builds": [{"model": b.model, "status": b.status, "rows": b.rows, "relation": b.relation,
                        "audited": b.audited, "seconds": b.seconds, "batch": versions[b.model].batch,
                        "base_batch": versions[b.model].base_batch} for b in builds],
            "checks": [f"{o.check}({o.column or ''}) {o.outcome} {o.shown_value}" for o in outcomes],
            "publication": publication.id if publication else None, "dropped": len(dropped),
            "statements": statements}


def worker_rollback(project: str, target: str) -> dict[str, Any]:
    """What `elt rollback` does, with the rollback call timed in process."""
    started = time.perf_counter()
    from elt import publish, warehouse
    from elt.config import load_project
    imports = time.perf_counter() - started

    proj = load_project(Path(project))
    target_ = proj.target(target)
    with warehouse.exclusive(target_, who="bench rollback"):
        wh = warehouse.connect(target_)
        try:
            t = time.perf_counter()
            pub = publish.rollback(wh, proj.published_schema, f"bench-rollback-{time.time():.0f}")
            seconds = time.perf_counter() - t
        finally:
            wh.close()
    return {"seconds": seconds, "in_process": time.perf_counter() - started, "imports": imports,
            "restores": pub.restores, "peak_rss_mib": peak_rss_mib()}


WORKERS: dict[str, Callable[..., dict[str, Any]]] = {"stage": worker_stage, "rollback": worker_rollback}

# ---------------------------------------------------------------------------------------------------
# The parent: set-up, pairs, rollback, report
# ---------------------------------------------------------------------------------------------------


@dataclass
class Timed:
    """One whole process: wall seconds from spawn to exit, CPU seconds of it and its children, what it printed."""

    wall: float
    cpu: float
    result: dict[str, Any] = field(default_factory=dict)
    output: str = ""


def spawn(cmd: list[str], env: dict[str, str], parse: bool = True) -> Timed:
    """Run `cmd` to its end, timed from outside; exits the bench if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"FAILED: {' '.join(cmd[:4])} ... exited {proc.returncode}")
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if parse else {}
    return Timed(wall, cpu, result, proc.stdout)


def worker_cmd(kind: str, **params: Any) -> list[str]:
    return [sys.executable, SCRIPT, "--worker", kind, "--params", json.dumps(params)]


@dataclass
class Engine:
    """One engine's pair of projects and where their warehouses are."""

    name: str
    rows: int
    projects: dict[str, Path]
    where: dict[str, str]  # kind -> DuckDB file or Postgres DSN
    env: dict[str, str]

    @property
    def target(self) -> str:
        return TARGETS[self.name]

    def db(self, kind: str) -> data.Db:
        return data.Db(self.name, self.where[kind])

    def stage(self, kind: str, run_id: str, trace: bool = False) -> Timed:
        return spawn(worker_cmd("stage", project=str(self.projects[kind]), target=self.target, run_id=run_id,
                                trace=trace), self.env)


def admin_dsn(pg_url: str) -> str:
    return f"{pg_url.rstrip('/')}/postgres"


def setup_key(engine: str, rows: int, customers: int) -> dict[str, Any]:
    model = hashlib.sha256((data.MODEL_SQL + data.CONTRACT).encode()).hexdigest()[:12]
    return {"version": SETUP_VERSION, "engine": engine, "rows": rows, "customers": customers, "model": model}


def prepare(name: str, rows: int, args: argparse.Namespace, env: dict[str, str]) -> tuple[Engine, dict | None]:
    """The engine's projects and warehouses, created unless the cached ones match; returns them and the set-up's
    timings when it happened now (None when reused)."""
    cache: Path = args.cache_dir
    projects = {kind: data.write_project(cache / kind, kind) for kind in ("incremental", "full")}
    if name == "duckdb":
        where = {kind: str(projects[kind] / "wh.duckdb") for kind in projects}
    else:
        databases = {kind: DATABASES[kind].format(rows=rows) for kind in projects}
        where = {kind: f"{args.pg_url.rstrip('/')}/{databases[kind]}" for kind in projects}
        for kind, dsn in where.items():
            env[data.DSN_ENV[kind]] = dsn
    engine = Engine(name, rows, projects, where, env)
    marker = cache / f"setup-{name}.json"
    key = setup_key(name, rows, args.customers)
    if not args.fresh and marker.is_file() and json.loads(marker.read_text()).get("key") == key \
            and _consistent(engine):
        return engine, None
    marker.unlink(missing_ok=True)
    print(f"  {name}: creating {rows:,} raw orders and {args.customers:,} customers ...", flush=True)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    load_id = f"{time.time():.6f}"
    if name == "duckdb":
        for kind in projects:
            for suffix in ("", ".wal", ".lock"):
                Path(where[kind] + suffix).unlink(missing_ok=True)
        with data.Db(name, where["incremental"]) as db:
            db.run(data.raw_statements(name, rows, args.customers, load_id) + ["checkpoint"])
        shutil.copyfile(where["incremental"], where["full"])
    else:
        import psycopg

        with psycopg.connect(admin_dsn(args.pg_url), autocommit=True) as admin:
            for kind in ("full", "incremental"):
                admin.execute(f"drop database if exists {databases[kind]} with (force)")
            admin.execute(f"create database {databases['incremental']}")
            with data.Db(name, where["incremental"]) as db:
                db.run(data.raw_statements(name, rows, args.customers, load_id))
            admin.execute(f"create database {databases['full']} template {databases['incremental']}")
    timings["raw"] = time.perf_counter() - t
    for kind in ("incremental", "full"):
        first = engine.stage(kind, f"bench-setup-{kind}")
        build = first.result["builds"][0]
        if build["status"] != "built":
            raise SystemExit(f"set-up: the first build of {kind} says {build['status']}")
        timings[f"first {kind} build"] = first.wall
        timings[f"first {kind} peak_rss_mib"] = first.result["peak_rss_mib"]
    check_published(engine, "incremental", "set-up")
    marker.write_text(json.dumps({"key": key, "timings": timings}))
    return engine, timings


def _consistent(engine: Engine) -> bool:
    """Both warehouses exist, hold the same raw data, and publish the model."""
    try:
        states = []
        for kind in ("incremental", "full"):
            if engine.name == "duckdb" and not Path(engine.where[kind]).is_file():
                return False
            with engine.db(kind) as db:
                states.append(data.raw_state(db))
                db.one(f"select count(*) from {data.PUBLISHED}")
        return states[0] == states[1] and states[0][1] >= engine.rows
    except Exception as err:  # a missing database or table: set up again
        print(f"  {engine.name}: cached set-up unusable ({str(err).splitlines()[0]}); creating it again")
        return False


def apply_delta(engine: Engine, delta_rows: int, customers: int) -> str:
    """Merge one new load into raw_bench.orders of both warehouses (the same rows); returns its load id."""
    states = []
    for kind in ("incremental", "full"):
        with engine.db(kind) as db:
            states.append(data.raw_state(db))
    if states[0] != states[1]:
        raise SystemExit(f"FAILED: the two {engine.name} warehouses hold different raw data: {states}")
    _, max_id, newest = states[0]
    load_id = f"{max(time.time(), float(newest) + 0.001):.6f}"  # dlt's load ids: seconds since the epoch
    new = delta_rows // 2
    statements = data.delta_statements(engine.name, max_id, new, delta_rows - new, customers,
                                       int(float(load_id) * 1000) % 1_000_003, load_id)
    for kind in ("incremental", "full"):
        with engine.db(kind) as db:
            db.run(statements)
    return load_id


def answers(engine: Engine, kind: str) -> tuple:
    with engine.db(kind) as db:
        return tuple(str(v) for v in db.one(data.answers_sql(engine.name, data.PUBLISHED)))


def check_published(engine: Engine, kind: str, when: str) -> None:
    """analytics.orders holds every raw order the filter keeps, each once (cheap: two aggregates)."""
    with engine.db(kind) as db:
        expected = data.expected_rows(db)
        found = db.one(f"select count(*) from {data.PUBLISHED}")[0]
        duplicates = data.duplicate_keys(db)
    if found != expected or duplicates:
        raise SystemExit(f"FAILED ({engine.name}, {kind}, {when}): analytics.orders holds {found:,} rows, "
                         f"{duplicates} duplicate order_id; expected {expected:,} rows and none")


def incremental_run(engine: Engine, run_id: str, trace: bool = False) -> Timed:
    """One measured incremental process, checked: built as a new batch with new rows, published, correct."""
    run = engine.stage("incremental", run_id, trace)
    builds = run.result["builds"]
    if not builds or builds[0]["status"] != "built" or not builds[0]["base_batch"]:
        raise SystemExit(f"FAILED ({engine.name}): the incremental run did not add a batch: {builds}")
    if run.result["publication"] is None:
        raise SystemExit(f"FAILED ({engine.name}): the incremental run published nothing")
    check_published(engine, "incremental", run_id)
    return run


def full_run(engine: Engine, run_id: str) -> Timed:
    run = engine.stage("full", run_id)
    builds = run.result["builds"]
    if not builds or builds[0]["status"] != "built" or run.result["publication"] is None:
        raise SystemExit(f"FAILED ({engine.name}): the full rebuild did not build and publish: {builds}")
    check_published(engine, "full", run_id)
    return run


def pairs(engine: Engine, args: argparse.Namespace) -> tuple[list[tuple[Timed, Timed]], list[Timed]]:
    """Warm-up, then `runs` pairs (incremental, full rebuild) after a new raw delta each; with each pair, a process
    that only imports what a stage imports (the floor of any run)."""
    measured, floors = [], []
    for n in range(args.runs + 1):
        apply_delta(engine, args.delta_rows, args.customers)
        inc = incremental_run(engine, f"bench-incremental-{n}")
        full = full_run(engine, f"bench-full-{n}")
        got, want = answers(engine, "incremental"), answers(engine, "full")
        if got != want:
            raise SystemExit(f"FAILED ({engine.name}): incremental answers {got} differ from the full rebuild's {want}")
        label = "warm-up" if n == 0 else f"pair {n}"
        print(f"    {label:<8} incremental {inc.wall:6.2f} s ({inc.result['builds'][0]['rows']:,} delta rows, "
              f"batch {inc.result['builds'][0]['batch']})   full {full.wall:6.2f} s   "
              f"ratio {inc.wall / full.wall:.3f}   answers equal", flush=True)
        if n:
            measured.append((inc, full))
            floors.append(spawn([sys.executable, "-c", FLOOR], engine.env, parse=False))
    return measured, floors


def rollbacks(engine: Engine, args: argparse.Namespace) -> dict[str, list[Timed]]:
    """`runs` rollbacks each way, each right after an incremental publication of one delta. The answers must
    return exactly to those before it; the next run then reads that load again and must give the rolled-back
    answers exactly (so the following rollback also comes after a publication of one delta)."""
    done: dict[str, list[Timed]] = {"cli": [], "worker": []}
    project = str(engine.projects["incremental"])
    for n in range(args.runs):
        for how in ("cli", "worker"):
            apply_delta(engine, args.delta_rows, args.customers)
            before = answers(engine, "incremental")
            incremental_run(engine, f"bench-before-rollback-{how}-{n}")
            published = answers(engine, "incremental")
            if published == before:
                raise SystemExit(f"FAILED ({engine.name}): the publication before the rollback changed no answer")
            if how == "cli":
                timed = spawn([ELT_CLI, "--project", project, "rollback", "--target", engine.target], engine.env,
                              parse=False)
            else:
                timed = spawn(worker_cmd("rollback", project=project, target=engine.target), engine.env)
            after = answers(engine, "incremental")
            if after != before:
                raise SystemExit(f"FAILED ({engine.name}): after rollback {after}, before the publication {before}")
            incremental_run(engine, f"bench-after-rollback-{how}-{n}")
            again = answers(engine, "incremental")
            if again != published:
                raise SystemExit(f"FAILED ({engine.name}): the run after the rollback answers {again}, the rolled-back "
                                 f"publication answered {published}")
            done[how].append(timed)
    return done


def spread(values: list[float], digits: int = 2) -> str:
    return "/".join(f"{v:.{digits}f}" for v in (min(values), statistics.median(values), max(values)))


def versions_line() -> str:
    names = ("duckdb", "sqlglot", "soda-core", "psycopg")
    return ", ".join(f"{n} {version(n)}" for n in names) + f"; python {sys.version.split()[0]}; {os.cpu_count()} cores"


def _median_steps(runs: list[Timed]) -> str:
    names = runs[0].result["steps"]
    return ", ".join(f"{k} {statistics.median(r.result['steps'][k] for r in runs):.3f}" for k in names)


def _work(run: Timed) -> float:
    """In-process seconds after the imports: the run's own work."""
    return run.result["seconds"] - run.result["steps"]["imports"]


def pair_lines(engine: Engine, measured: list[tuple[Timed, Timed]], floors: list[Timed],
               missed: list[str]) -> list[str]:
    """Summary rows of the pairs; a missed ratio target is added to `missed`."""
    incs, fulls = [i for i, _ in measured], [f for _, f in measured]
    ratios = [i.wall / f.wall for i, f in measured]
    target = RATIO_TARGETS[engine.name]
    ok = statistics.median(ratios) <= target
    missed += [] if ok else [f"{engine.name} incremental / full"]
    lines = []
    for label, runs in (("incremental run", incs), ("full rebuild", fulls)):
        lines.append(f"  {engine.name + ' ' + label:<36} {spread([r.wall for r in runs]):>18} s  CPU "
                     f"{spread([r.cpu for r in runs]):>16} s  peak RSS "
                     f"{max(r.result['peak_rss_mib'] for r in runs):5.0f} MiB")
    lines.append(f"  {engine.name + ' ratio incremental / full':<36} {spread(ratios, 3):>18}    "
                 f"target median <= {target}: {verdict(ok)}")
    start_up = statistics.median(i.wall - i.result["seconds"] for i in incs)
    lines.append(f"    incremental, median s: interpreter start-up/exit {start_up:.3f}, {_median_steps(incs)}")
    lines.append(f"    full rebuild, median s: {_median_steps(fulls)}")
    floor = [t.wall / f.wall for t, (_, f) in zip(floors, measured, strict=True)]
    lines.append(f"    floor: a process that only starts and imports the stage modules "
                 f"{spread([t.wall for t in floors])} s = {spread(floor, 3)} of the full rebuild (no run's ratio "
                 "can be lower)")
    work = [_work(i) / _work(f) for i, f in measured]
    lines.append(f"    without interpreter start-up, imports and exit: ratio {spread(work, 3)} "
                 "(information, not the target)")
    return lines


def rollback_lines(engine: Engine, done: dict[str, list[Timed]], missed: list[str]) -> list[str]:
    cli, workers = done["cli"], done["worker"]
    goal = ROLLBACK_TARGET.get(engine.name)
    ok = goal is None or statistics.median(t.wall for t in cli) <= goal
    missed += [] if ok else [f"{engine.name} rollback"]
    return [f"  {engine.name + ' rollback: elt rollback (CLI)':<36} {spread([t.wall for t in cli]):>18} s  CPU "
            f"{spread([t.cpu for t in cli]):>16} s  " + (f"target median <= {goal} s: {verdict(ok)}" if goal
                                                         else "(no target)"),
            f"  {engine.name + ' rollback: worker process':<36} {spread([t.wall for t in workers]):>18} s  "
            f"in process {spread([t.result['in_process'] for t in workers])} s, of it publish.rollback "
            f"{spread([t.result['seconds'] for t in workers], 3)} s; peak RSS "
            f"{max(t.result['peak_rss_mib'] for t in workers):.0f} MiB; answers restored exactly"]


def where_time_goes(engine: Engine, args: argparse.Namespace) -> list[str]:
    """One traced incremental run: seconds per stage, then the slowest SQL statements the toolkit sent."""
    apply_delta(engine, args.delta_rows, args.customers)
    run = incremental_run(engine, "bench-trace", trace=True)
    steps = run.result["steps"]
    inside = sum(steps.values())
    lines = [f"  {engine.name}: whole process {run.wall:.2f} s = start-up/exit {run.wall - inside:.2f} s + "
             + ", ".join(f"{k} {v:.3f}" for k, v in steps.items())]
    by_stage: dict[str, float] = {}
    for stage, _, seconds in run.result["statements"]:
        by_stage[stage] = by_stage.get(stage, 0.0) + seconds
    lines.append("    SQL on the run's connection per stage: " + ", ".join(f"{k} {v:.3f}" for k, v in by_stage.items())
                 + f" ({len(run.result['statements'])} statements)")
    slowest = sorted(run.result["statements"], key=lambda s: -s[2])[:args.top]
    lines += [f"    {seconds:7.3f} s  {stage:<8} {sql[:150]}" for stage, sql, seconds in slowest]
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engines", nargs="+", choices=tuple(TARGETS), default=list(TARGETS))
    ap.add_argument("--duckdb-rows", type=int, default=10_000_000, help="raw orders on DuckDB (default 10000000)")
    ap.add_argument("--pg-rows", type=int, default=2_000_000, help="raw orders on Postgres (default 2000000)")
    ap.add_argument("--delta-rows", type=int, default=10_000, help="new or changed raw rows per run (half each)")
    ap.add_argument("--customers", type=int, default=100_000, help="rows of the customers dimension")
    ap.add_argument("--runs", type=int, default=3, help="measured pairs, and rollbacks each way (default 3)")
    ap.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "elt-bench-incremental")
    ap.add_argument("--fresh", action="store_true", help="create the raw data and first builds again")
    ap.add_argument("--pg-url", default=DEFAULT_PG_URL, help="Postgres server URL without a database")
    ap.add_argument("--no-trace", action="store_true", help="skip the traced run (where the time goes)")
    ap.add_argument("--top", type=int, default=12, help="slowest statements shown from the traced run")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    ap.add_argument("--worker", choices=WORKERS, help=argparse.SUPPRESS)
    ap.add_argument("--params", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        result = WORKERS[args.worker](**json.loads(args.params))
        sys.stdout.write("\n" + json.dumps(result, default=str) + "\n")  # after anything DuckDB printed
        return 0
    if args.runs < 1 or args.delta_rows < 2:
        ap.error("--runs must be >= 1 and --delta-rows >= 2")

    env = dict(os.environ, SODA_CORE_TELEMETRY_ENABLED="false", RUNTIME__DLTHUB_TELEMETRY="false", DO_NOT_TRACK="1")
    sizes = {"duckdb": args.duckdb_rows, "postgres": args.pg_rows}
    print(f"incremental model bench: model `orders` (filter + projection + join to {args.customers:,} customers), "
          f"{args.delta_rows:,} new or changed rows per run; {versions_line()}")
    print(f"every measurement is a whole fresh process, timed from outside; {args.runs} pairs after a warm-up")
    print(f"\nset-up (cached in {args.cache_dir}):")
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    engines: list[Engine] = []
    for name in args.engines:
        engine, timings = prepare(name, sizes[name], args, env)
        marker = json.loads((args.cache_dir / f"setup-{name}.json").read_text())["timings"]
        how = "created now" if timings else "reused"
        print(f"  {name}: {engine.rows:,} rows, {how}: raw data {marker['raw']:.1f} s, first incremental build (in "
              f"full) {marker['first incremental build']:.1f} s, first table build {marker['first full build']:.1f} s")
        engines.append(engine)

    report: list[str] = []
    missed: list[str] = []
    breakdowns: list[str] = []
    for engine in engines:
        print(f"\n{engine.name}: {engine.rows:,} rows", flush=True)
        measured, floors = pairs(engine, args)
        print(f"  rollback ({args.runs} each way, each after an incremental publication) ...", flush=True)
        done = rollbacks(engine, args)
        report += pair_lines(engine, measured, floors, missed) + rollback_lines(engine, done, missed)
        if not args.no_trace:
            breakdowns += where_time_goes(engine, args)

    print("\nsummary (min/median/max over the runs; wall seconds of whole processes):")
    print("\n".join(report))
    if breakdowns:
        print("\nwhere the time goes in one incremental run (traced; stages in seconds):")
        print("\n".join(breakdowns))
    print("\ncommands measured (PARAMS: project, target, run id):")
    print(f"  incremental: {sys.executable} {SCRIPT} --worker stage --params "
          f"'{{\"project\": \"{args.cache_dir / 'incremental'}\", \"target\": \"dev|pg\", \"run_id\": \"...\"}}'")
    print(f"  full:        {sys.executable} {SCRIPT} --worker stage --params "
          f"'{{\"project\": \"{args.cache_dir / 'full'}\", \"target\": \"dev|pg\", \"run_id\": \"...\"}}'")
    print(f"  rollback:    {ELT_CLI} --project {args.cache_dir / 'incremental'} rollback --target dev|pg")
    print(f"  rollback:    {sys.executable} {SCRIPT} --worker rollback --params "
          f"'{{\"project\": \"{args.cache_dir / 'incremental'}\", \"target\": \"dev|pg\"}}'")
    print("  (Postgres targets read $BENCH_INCR_PG_DSN / $BENCH_FULL_PG_DSN: --pg-url + /elt_bench_incr_<rows>, "
          "/elt_bench_full_<rows>)")
    print(f"  floor:       {sys.executable} -c '{FLOOR}'")
    print(f"  this run:    {' '.join([sys.executable, *sys.argv])}")
    if missed:
        print(f"\ntargets missed: {', '.join(missed)}")
        return 1 if args.check else 0
    print("\nall targets met; every correctness check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
