"""The `elt` command: run, extract, lint, compile, history, rollback.

Errors the user can fix print as `where: what — what to do` and exit 1, without a traceback; `--debug`
shows it. Stage packages are imported lazily: only `elt run` pays for Prefect's start-up.
"""
from __future__ import annotations

import argparse
import atexit
import json
import logging
import os
import signal
import sys
import threading
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Callable, NoReturn

from elt.config import TARGET_DIALECTS
from elt.errors import EltError, Location


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setFormatter(_RunFormatter("%(message)s"))
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    logging.getLogger("elt").setLevel(logging.DEBUG if args.debug else logging.INFO)
    for noisy in ("dlt", "httpx", "httpcore", "soda"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        return args.command(args)
    except EltError as err:
        if args.debug:
            raise
        print(f"error: {_relative(str(err))}", file=sys.stderr)
        _print_excerpt(err.where)
        return 1
    except BrokenPipeError:  # `elt plan --json | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt as stop:
        code = 128 + (stop.args[0] if stop.args else signal.SIGINT)
        print("interrupted: the next run takes over from where this one stopped", file=sys.stderr)
        return code


def entry() -> None:
    """The `elt` console script."""
    exit_now(main())


def exit_now(code: int) -> NoReturn:
    """End the process without the interpreter's teardown.

    After a flow run, tearing the interpreter down took 0.8-1.75 s and printed ~40 lines of nanobind
    "leaked instance" reports about DuckDB's module (objects Prefect still referenced when the extension
    went away). Everything that must happen at exit still does, in the interpreter's own order: threads'
    exit hooks (Prefect drains its log and event workers there) and joining non-daemon threads, then the
    atexit handlers (Prefect stops its temporary server; logging flushes).
    """
    threading._shutdown()  # type: ignore[attr-defined]  # what Py_Finalize runs first
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _terminated(signum: int, frame: object) -> None:
    """SIGTERM (workers, containers, `timeout`) stops a run like Ctrl-C: locks released, no traceback."""
    raise KeyboardInterrupt(signum)


class _RunFormatter(logging.Formatter):
    """Prefix Prefect's run records with the run's name (`build-orders: Finished in state Completed()`)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        name = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        return f"{name}: {text}" if name else text


def _relative(text: str) -> str:
    """Paths inside the current directory read shorter and stay clickable."""
    return text.replace(f"{Path.cwd()}/", "")


def _print_excerpt(where: Location | None) -> None:
    """The source line of a file:line:col location with a caret under the column, on stderr (stdout keeps one
    line per problem for editors and scripts)."""
    if where is None or where.line is None or not Path(where.path).is_file():
        return
    lines = Path(where.path).read_text(encoding="utf-8", errors="replace").splitlines()
    if not 1 <= where.line <= len(lines):
        return
    text = lines[where.line - 1].replace("\t", " ")
    gutter = f"{where.line:>4} | "
    print(f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * ((where.col or 1) - 1)}^", file=sys.stderr, flush=True)


def _project(args: argparse.Namespace):
    from elt.config import load_project

    return load_project(Path(args.project) if args.project else None)


def cmd_run(args: argparse.Namespace) -> int:
    project = _project(args)  # validate config and target before paying for Prefect's start-up
    from elt import warehouse

    target = project.target(args.target)
    warehouse.check_runnable(target)
    _check_contracts(project, target)
    _check_selection(project, args)
    from flows.elt_flow import elt_pipeline
    from flows.server import cli_run, ensure_api

    _quiet_prefect_tracebacks(args.debug)
    ensure_api()
    with cli_run():
        summary = elt_pipeline(target=args.target or project.default_target, select=args.select,
                               project_dir=str(project.root), full_refresh=args.full_refresh,
                               exclude=args.exclude, extract_sources=args.command is cmd_run)
    if args.command is cmd_build:
        print("extract  skipped: elt build reads the raw data as loaded")
    for load in summary.loads:
        rows = ", ".join(f"{t} {n}" for t, n in sorted(load.rows.items())) or "nothing new"
        dead = f"; {load.dead_letters} rejected into {load.dataset}._dead_letters" if load.dead_letters else ""
        print(f"loaded   {load.dataset}: {rows}{dead}")
        if load.resumed_packages:
            print(f"         (first completed {load.resumed_packages} load package(s) an interrupted run left)")
    built = [b.model + (f" ({b.note})" if b.note else "") for b in summary.builds if b.status == "built"]
    print(f"built    {len(built)} model(s){': ' + ', '.join(built) if built else ''}; "
          f"{len(summary.builds) - len(built)} unchanged")
    gate = summary.gate.summary if summary.gate else {"checks": 0, "passed": 0}
    print(f"checked  {gate['passed']}/{gate['checks']} checks passed")
    if summary.publication:
        names = ", ".join(f"{project.published_schema}.{m}" for m in sorted(summary.publication.models))
        print(f"published publication {summary.publication.id}: {names}")
    else:
        print("published nothing new: every model is unchanged")
    print(f"warehouse {_relative(str(summary.warehouse))}")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from elt_cli import init

    directory = Path(args.directory)
    written = init.create(directory)
    print(f"created {_relative(str(directory.resolve()))}/ with {len(written)} files: "
          f"{', '.join(str(p.relative_to(directory)) for p in written)}")
    print(f"next: cd {args.directory} && elt lint && elt run")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    return cmd_run(args)  # the same flow with extract_sources=False


def cmd_extract(args: argparse.Namespace) -> int:
    project = _project(args)
    from elt import warehouse
    from sources import runner

    target = project.target(args.target)
    warehouse.check_runnable(target)
    names = args.sources or list(project.sources)
    for name in names:
        if name not in project.sources:
            raise EltError(f"unknown source {name!r}", hint=f"declared: {', '.join(project.sources)}")
    with warehouse.exclusive(target):
        for name in names:
            result = runner.load(project, project.sources[name], target, run_id=f"cli-{uuid.uuid4()}")
            dead = f"; {result.dead_letters} dead letters" if result.dead_letters else ""
            print(f"loaded {result.dataset}: {result.rows or 'nothing new'}{dead}; cursors {result.cursors}")
    return 0


def cmd_sources(args: argparse.Namespace) -> int:
    project = _project(args)
    from elt import warehouse
    from sources import runner

    target = project.target(args.target)
    warehouse.check_runnable(target)
    states = [runner.status(project, source, target) for source in project.sources.values()]
    if args.json:
        _print_json([{**asdict(state), "target": target.name} for state in states])
        return 0
    if not project.sources:
        print("no sources declared in elt.toml")
    for state in states:
        last = f"{state.last_load:%Y-%m-%d %H:%M:%S %Z}" if state.last_load else "never"
        print(f"{state.source} ({state.kind}) -> {state.dataset} on {target.name}; last load: {last}")
        for table in sorted(set(state.rows) | set(state.cursors)):
            print(f"  {table:<16} {state.rows.get(table, 0):>10} rows   cursor {state.cursors.get(table, '-')}")
    return 0


def cmd_lint(args: argparse.Namespace) -> int:
    project = _project(args)
    from sources.catalog import raw_relations_of
    from transforms.plan import lint_project

    context, violations = lint_project(project.models_dir, raw_relations_of(project, project.target(args.target)),
                                       project.dialect, project.published_schema)
    for violation in violations:
        print(_relative(str(violation)), flush=True)
        _print_excerpt(violation.location)
    if violations:
        print(f"{len(violations)} problem(s) in {len(context.models) + len(context.parse_errors)} model(s)",
              file=sys.stderr)
        return 1
    contracts = _check_contracts(project, project.target(args.target), context)
    print(f"{len(context.models)} model(s) OK, {len(contracts)} contract(s) OK", file=sys.stderr)
    return 0


RAW_DEPENDENT_LINT = ("L002", "L003")  # unknown tables and columns: a first load may still create them


def _check_selection(project, args: argparse.Namespace) -> None:
    """Selectors and --full-refresh names, checked before Prefect starts or anything is extracted."""
    if not (args.select or args.exclude or args.full_refresh):
        return
    from transforms import selection
    from transforms.build import check_full_refresh
    from transforms.models import parse_all

    models = parse_all(project.models_dir)
    selection.resolve(models, args.select, args.exclude)
    check_full_refresh(models, args.full_refresh)


def _check_contracts(project, target, context=None) -> dict:
    """Validate the models and every contract before anything is extracted; returns the contracts.

    Lint problems about tables and columns may be raw tables the first load creates: the run lints again
    after extraction, with the tables as loaded, and checks those models' contracts then.
    """
    from checks.contracts import load_contracts
    from elt.errors import LintError
    from sources.catalog import raw_relations_of
    from transforms.plan import lint_project

    if context is None:
        context, violations = lint_project(project.models_dir, raw_relations_of(project, target), project.dialect,
                                           project.published_schema)
        if [v for v in violations if v.code not in RAW_DEPENDENT_LINT]:
            raise LintError(violations)
        if violations:
            return {}
    outputs = {name: context.relations.get(name) for name in context.by_name}
    return load_contracts(project.contracts_dir, outputs, target.dialect)


def cmd_compile(args: argparse.Namespace) -> int:
    project = _project(args)
    from sources.catalog import raw_relations_of
    from transforms.compile import compile_model
    from transforms.plan import make_plan

    target = project.target(args.target)
    dialect = args.dialect or target.dialect
    plan = make_plan(project.models_dir, raw_relations_of(project, target), "duckdb", project.published_schema)
    for name in args.models:
        if name not in plan.models:
            raise EltError(f"unknown model {name!r}", hint="see the files under transforms/models/")
    names = [name for name in plan.order if not args.models or name in args.models]  # each once, upstream first
    relations, note = ({}, "") if args.dialect else _relations_in_effect(project, target)
    for name in names:
        sql = compile_model(plan.models[name], dialect, relations, pretty=True)
        print(f"-- {name} ({dialect}{note})\n{sql};\n")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    """What a run would build, leave and publish, and why, from the versions and the data loaded so far."""
    project = _project(args)
    from elt import publish, warehouse
    from sources.catalog import raw_relations
    from transforms import provenance, selection
    from transforms.build import plan_versions
    from transforms.plan import make_plan

    target = project.target(args.target)
    warehouse.check_runnable(target)
    _check_selection(project, args)
    if not warehouse.has_data(target):
        raise EltError(f"nothing is loaded on {target.name} yet: a run would build every model",
                       hint="run `elt run` (or `elt extract`) first")
    wh = warehouse.connect(target, read_only=True)
    try:
        plan = make_plan(project.models_dir, raw_relations(project, warehouse.raw_catalog(wh)), target.dialect,
                         project.published_schema)
        chosen = selection.resolve(plan.models, args.select, args.exclude)
        order = [name for name in plan.order if name in chosen]
        pub = publish.current(wh)
        in_effect = {**pub.models, **pub.internal} if pub else {}
        versions = plan_versions(wh, plan.models, order, plan.outputs(), in_effect, set(args.full_refresh),
                                 "plan", read_only=True)
        records = provenance.recorded(wh, [in_effect[name] for name in order if name in in_effect])
    finally:
        wh.close()
    steps = [provenance.step(versions[name], in_effect.get(name), records.get(in_effect.get(name, "")),
                             name in args.full_refresh) for name in order]
    changed = [s.model for s in steps if s.action != "unchanged" and plan.models[s.model].published]
    read = selection.sources_read(plan.models, chosen)
    sources = [name for name, source in project.sources.items()
               if source.dataset in read or not (args.select or args.exclude)]
    if args.json:
        _print_json({"target": target.name, "publication": pub.id if pub else None, "extract_first": sources,
                     "steps": [asdict(s) for s in steps],
                     "would_publish": [f"{project.published_schema}.{m}" for m in changed]})
        return 0
    against = f"publication {pub.id}" if pub else "nothing published yet"
    print(f"plan for {target.name}, against {against}; nothing was written")
    width = max(len(s.model) for s in steps) if steps else 0
    for s in steps:
        print(f"  {s.action:<9}  {s.model:<{width}}  {s.materialized:<11}  {s.reason}")
    names = ", ".join(f"{project.published_schema}.{m}" for m in changed)
    print(f"would publish: {names}" if changed else "would publish nothing new")
    if sources:
        print(f"(a run extracts {', '.join(sources)} first; rows it loads then would add to this)")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    """The contracts against what is published now; nothing is built, written or published."""
    project = _project(args)
    from checks.gate import decide
    from checks.verify import verify
    from elt import clock, publish, warehouse

    target = project.target(args.target)
    warehouse.check_runnable(target)
    if not warehouse.has_data(target):
        raise EltError(f"warehouse {target.describe()} does not exist yet", hint="run `elt run` first")
    contracts = _check_contracts(project, target)
    for name in args.models:
        if name not in contracts:
            raise EltError(f"model {name!r} has no contract", hint=f"models with one: {', '.join(sorted(contracts))}")
    wh = warehouse.connect(target, read_only=True)
    try:
        pub = publish.current(wh)
        if pub is None:
            raise EltError(f"nothing is published on {target.name} yet", hint="run `elt run` first")
        pointers = pub.models | {m: r for m, r in pub.internal.items() if "@" not in m}
        names = [n for n in sorted(args.models or contracts) if n in pointers]
        outcomes = [o for name in names for o in verify(wh, contracts[name], pointers[name], clock.now())]
    finally:
        wh.close()
    report = decide(outcomes)
    if args.json:
        _print_json({"publication": pub.id, "target": target.name, **report.summary,
                     "outcomes": [asdict(o) | {"passed": o.passed} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            column = f" on {o.column}" if o.column else ""
            print(f"{o.outcome:<8} {o.model}: {o.check}{column}  measured {o.shown_value}, "
                  f"threshold {o.threshold or '-'}")
        unpublished = sorted(set(args.models or contracts) - set(names))
        if unpublished:
            print(f"not verified (nothing published yet): {', '.join(unpublished)}", file=sys.stderr)
        print(f"checked  {report.summary['passed']}/{report.summary['checks']} checks passed against publication "
              f"{pub.id} on {target.name}; nothing was published", file=sys.stderr)
    return 0 if report.passed else 1


def cmd_show(args: argparse.Namespace) -> int:
    """The model's SQL as it is now, over what the publication in effect holds: what it would publish."""
    project = _project(args)
    from elt import warehouse
    from sources.catalog import raw_relations_of
    from transforms.compile import compile_model
    from transforms.plan import make_plan
    from transforms.selection import resolve

    target = project.target(args.target)
    warehouse.check_runnable(target)
    if not warehouse.has_data(target):
        raise EltError(f"warehouse {target.describe()} does not exist yet", hint="run `elt run` first")
    plan = make_plan(project.models_dir, raw_relations_of(project, target), "duckdb", project.published_schema)
    if args.model not in plan.models:
        resolve(plan.models, [args.model])  # an unknown name gets the selectors' "did you mean"
        raise EltError(f"show takes one model name, not {args.model!r}")
    model = plan.models[args.model]
    relations, note = _relations_in_effect(project, target)
    missing = [m for m in model.model_refs if m not in relations]
    if missing:
        raise EltError(f"{model.name} reads {', '.join(missing)}, which {target.name} has no published version of",
                       where=model.location(), hint=f"run `elt run --select {model.name}` first")
    sql = compile_model(model, target.dialect, relations)
    wh = warehouse.connect(target, read_only=True)
    try:
        result = wh.execute(f"select * from ({sql}) as _elt_show limit {args.limit}")
        names = [d[0] for d in result.description]
        rows = result.fetchall()
    except Exception as err:  # the engine's own words are what the author needs
        raise EltError(f"{model.name}: {str(err).splitlines()[0]}", where=model.location(),
                       hint="fix the model SQL") from None
    finally:
        wh.close()
    _print_table(names, rows)
    print(f"{len(rows)} row(s) of {model.name}, at most {args.limit} ({note.lstrip('; ')})", file=sys.stderr)
    return 0


def _print_table(names: list[str], rows: list[tuple]) -> None:
    cells = [[("NULL" if v is None else str(v))[:40] for v in row] for row in rows]
    widths = [max([len(n), *(len(r[i]) for r in cells)]) for i, n in enumerate(names)]
    print("  ".join(n.ljust(w) for n, w in zip(names, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _relations_in_effect(project, target) -> tuple[dict[str, str], str]:
    """Where the models a model reads are on the target now, so the printed SQL runs there as it is: published
    models by their published names, internal ones by the version the publication in effect points at."""
    from elt import publish, warehouse

    if not target.runnable:
        return {}, "; models by name: a compile-only target"
    if not warehouse.has_data(target):
        return {}, f"; models by name: nothing published on {target.name} yet"
    try:
        wh = warehouse.connect(target, read_only=True)
    except EltError:  # a run holds the DuckDB file: print the SQL all the same
        return {}, f"; models by name: {target.name} is in use by a run"
    try:
        pub = publish.current(wh)
    finally:
        wh.close()
    if pub is None:
        return {}, f"; models by name: nothing published on {target.name} yet"
    relations = {m: f"{project.published_schema}.{m}" for m in pub.models}
    relations |= {m: r for m, r in pub.internal.items() if "@" not in m}
    return relations, f"; reads what publication {pub.id} on {target.name} points at"


def _print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))


def _with_warehouse(args: argparse.Namespace, action: Callable) -> int:
    from elt import warehouse

    project = _project(args)
    target = project.target(args.target)
    warehouse.check_runnable(target)
    if not warehouse.has_data(target):
        raise EltError(f"warehouse {target.describe()} does not exist yet", hint="run `elt run` first")
    with warehouse.exclusive(target):
        con = warehouse.connect(target)
        try:
            return action(project, con)
        finally:
            con.close()


def cmd_history(args: argparse.Namespace) -> int:
    from elt import publish

    def show(project, con) -> int:
        publications = publish.history(con, limit=args.limit)
        if args.json:
            _print_json([{**asdict(pub), "published_schema": project.published_schema} for pub in publications])
            return 0
        for pub in publications:
            what = f"restores {pub.restores}" if pub.kind == "rollback" else \
                f"checks {pub.summary.get('passed', '?')}/{pub.summary.get('checks', '?')} passed"
            print(f"{pub.id:>4}  {pub.published_at:%Y-%m-%d %H:%M:%S}  {pub.kind:<8}  {what:<22}  run {pub.run_id}")
            if args.verbose:
                for model, relation in pub.models.items():
                    print(f"        {project.published_schema}.{model} -> {relation}")
        return 0

    return _with_warehouse(args, show)


def cmd_rollback(args: argparse.Namespace) -> int:
    from datetime import datetime, timezone

    from elt import publish

    def undo(project, con) -> int:
        run_id = f"cli-rollback-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
        pub = publish.rollback(con, project.published_schema, run_id)
        print(f"rolled back: publication {pub.id} restores publication {pub.restores} "
              f"({len(pub.models)} model(s))")
        return 0

    return _with_warehouse(args, undo)


def _quiet_prefect_tracebacks(debug: bool) -> None:
    """Prefect logs a traceback for every failed run; for the user's own mistakes the message is enough."""
    if debug:
        return

    class DropUserErrorTraceback(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            if record.exc_info and isinstance(record.exc_info[1], EltError):
                record.exc_info, record.exc_text = None, None
            return True

    for name in ("prefect", "prefect.flow_runs", "prefect.task_runs"):
        for handler in logging.getLogger(name).handlers:
            handler.addFilter(DropUserErrorTraceback())


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive whole number")
    return int(text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("elt-toolkit")
    except PackageNotFoundError:  # run from a checkout that was not installed
        return "(not installed)"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="elt", description="Extract, transform, verify and publish.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks and debug logs")
    parser.add_argument("--version", action="version", version=f"elt {_version()}")
    parser.add_argument("--project", metavar="DIR", help="project directory (default: found from the cwd)")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    def command(name: str, handler: Callable, help_: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_, description=help_)
        cmd.set_defaults(command=handler)
        cmd.add_argument("--target", help="target from elt.toml (default: the project's default_target)")
        return cmd

    init_cmd = sub.add_parser("init", help="create a new project in DIR: a source, a model, a contract, "
                              "prefect.yaml", description="create a new project that lints, runs and deploys as it is")
    init_cmd.set_defaults(command=cmd_init)
    init_cmd.add_argument("directory", metavar="DIR")
    run = command("run", cmd_run, "extract, build, verify and publish (the whole pipeline, as a Prefect flow)")
    build = command("build", cmd_build, "build, verify and publish from the raw data as loaded: no extraction")
    for cmd in (run, build):
        cmd.add_argument("--select", nargs="+", metavar="SELECTOR",
                         help="only these models and what they read: MODEL, MODEL+ (with its downstream), "
                              "+MODEL, tag:TAG; only the sources they read are extracted")
        cmd.add_argument("--exclude", nargs="+", metavar="SELECTOR", default=[],
                         help="not these models (same syntax), nor any model that reads them")
        cmd.add_argument("--full-refresh", nargs="+", metavar="MODEL", default=[],
                         help="rebuild these incremental models in full rather than from their new rows")
    command("extract", cmd_extract, "extract and load sources only").add_argument(
        "sources", nargs="*", metavar="SOURCE")
    command("sources", cmd_sources, "list declared sources: cursors, last load, rows per raw table").add_argument(
        "--json", action="store_true", help="as JSON: one object per source")
    command("lint", cmd_lint, "lint every model; exit 1 on any problem")
    compile_cmd = command("compile", cmd_compile, "print the SQL each model runs as on a dialect")
    compile_cmd.add_argument("models", nargs="*", metavar="MODEL", help="default: every model")
    compile_cmd.add_argument("--dialect", choices=tuple(dict.fromkeys(TARGET_DIALECTS.values())),
                             help="default: the target's dialect")
    plan_cmd = command("plan", cmd_plan, "what a run would build and publish, and why; writes nothing")
    plan_cmd.add_argument("--select", nargs="+", metavar="SELECTOR", help="as for `elt run`")
    plan_cmd.add_argument("--exclude", nargs="+", metavar="SELECTOR", default=[], help="as for `elt run`")
    plan_cmd.add_argument("--full-refresh", nargs="+", metavar="MODEL", default=[], help="as for `elt run`")
    plan_cmd.add_argument("--json", action="store_true", help="as JSON: each model's action and reason")
    verify_cmd = command("verify", cmd_verify, "verify the contracts against what is published now; publish nothing")
    verify_cmd.add_argument("models", nargs="*", metavar="MODEL", help="default: every model with a contract")
    verify_cmd.add_argument("--json", action="store_true", help="as JSON: the summary and every check's outcome")
    show = command("show", cmd_show, "rows of a model as it would publish: its SQL now, over what is published")
    show.add_argument("model", metavar="MODEL")
    show.add_argument("--limit", type=_positive, default=10, help="at most this many rows (default 10)")
    history = command("history", cmd_history, "list publications, newest first")
    history.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    history.add_argument("-v", "--verbose", action="store_true", help="show each model's version")
    history.add_argument("--json", action="store_true", help="as JSON: one object per publication, newest first")
    command("rollback", cmd_rollback, "point every published name back at the previous publication")
    return parser


if __name__ == "__main__":
    entry()
