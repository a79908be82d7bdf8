"""The `elt` command: the parser, the commands that write (run, build, extract, rollback, init) and listings.

Errors the user can fix print as `where: what — what to do` and exit 1, without a traceback; `--debug`
shows it. Stage packages are imported lazily: only `elt run` pays for Prefect's start-up.
"""
from __future__ import annotations

import argparse
import atexit
import logging
import os
import signal
import sys
import threading
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Callable, NoReturn

from docs_site import DEFAULT_OUT as DOCS_DIR
from elt.config import TARGET_DIALECTS
from elt.errors import BuildError, EltError, GateError
from elt_cli.common import (
    check_contracts,
    check_selection,
    print_excerpt,
    print_json,
    project_of,
    relative,
    with_warehouse,
)
from elt_cli.console import ConsoleHandler, result
from elt_cli.docs import cmd_docs
from elt_cli.lineage import cmd_lineage
from elt_cli.read_only import cmd_checks, cmd_compile, cmd_plan, cmd_show, cmd_verify


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler = ConsoleHandler()
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
        handler.end_progress()
        result(f"error: {relative(str(err))}", sys.stderr)
        print_excerpt(err.where)
        return 1
    except BrokenPipeError:  # `elt plan --json | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt as stop:
        code = 128 + (stop.args[0] if stop.args else signal.SIGINT)
        handler.end_progress()
        result("interrupted: the next run takes over from where this one stopped", sys.stderr)
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


def cmd_run(args: argparse.Namespace) -> int:
    project = project_of(args)  # validate config and target before paying for Prefect's start-up
    from elt import warehouse

    target = project.target(args.target)
    warehouse.check_runnable(target)
    check_contracts(project, target)
    check_selection(project, args)
    from checks.gate import describe
    from flows.elt_flow import elt_pipeline
    from flows.server import cli_run, ensure_api

    _quiet_prefect_tracebacks(args.debug)
    ensure_api()
    try:
        with cli_run():
            summary = elt_pipeline(target=args.target or project.default_target, select=args.select,
                                   project_dir=str(project.root), full_refresh=args.full_refresh,
                                   exclude=args.exclude, extract_sources=args.command is cmd_run,
                                   docs_dir=args.docs or "")
    except (BuildError, GateError) as blocked:
        if args.json and blocked.summary is not None:
            print_json(_run_record(project, blocked.summary, str(blocked)))
        raise
    if args.json:
        print_json(_run_record(project, summary))
        return 0
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
    for o in summary.gate.warnings if summary.gate else ():
        result(f"warned   {o.model}: {describe(o)} (level: warn; its rows: elt checks {o.model})")
    if summary.publication:
        names = ", ".join(f"{project.published_schema}.{m}" for m in sorted(summary.publication.models))
        result(f"published publication {summary.publication.id}: {names}")
    else:
        result("published nothing new: every model is unchanged")
    print(f"warehouse {relative(str(summary.warehouse))}")
    return 0


def _run_record(project, summary, error: str = "") -> dict:
    """`elt run --json`: what the run did, as one object (also for a blocked run, with `error`)."""
    gate = summary.gate
    publication = summary.publication
    return {
        "run_id": summary.run_id, "target": summary.target, "warehouse": summary.warehouse,
        "status": "blocked" if error else "published" if publication else "unchanged",
        "loads": [asdict(load) | {"total_rows": load.total_rows} for load in summary.loads],
        "builds": [asdict(build) for build in summary.builds], "build_seconds": round(summary.build_seconds, 3),
        "checks": gate.summary if gate else {"checks": 0, "passed": 0, "failed": 0},
        "outcomes": [asdict(o) | {"passed": o.passed} for o in gate.outcomes] if gate else [],
        "publication": {"id": publication.id, "models": {f"{project.published_schema}.{m}": r for m, r in
                                                         sorted(publication.models.items())}} if publication else None,
        "error": error or None,
    }


def cmd_init(args: argparse.Namespace) -> int:
    from elt_cli import init

    directory = Path(args.directory)
    written = init.create(directory)
    print(f"created {relative(str(directory.resolve()))}/ with {len(written)} files: "
          f"{', '.join(str(p.relative_to(directory)) for p in written)}")
    print(f"next: cd {args.directory} && elt lint && elt run")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    return cmd_run(args)  # the same flow with extract_sources=False


def cmd_extract(args: argparse.Namespace) -> int:
    project = project_of(args)
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
    project = project_of(args)
    from elt import warehouse
    from sources import runner

    target = project.target(args.target)
    warehouse.check_runnable(target)
    states = [runner.status(project, source, target) for source in project.sources.values()]
    if args.json:
        print_json([{**asdict(state), "target": target.name} for state in states])
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
    project = project_of(args)
    from elt_cli import lint_cache
    from sources.catalog import raw_relations_of

    target = project.target(args.target)
    raw = raw_relations_of(project, target)
    state = lint_cache.key(project, target.name, raw)
    kept = None if args.no_cache else lint_cache.recall(project, state)
    if kept:
        print(f"{kept['models']} model(s) OK, {kept['contracts']} contract(s) OK (nothing changed since the last "
              "lint)", file=sys.stderr)
        return 0
    from transforms.plan import lint_project

    context, violations = lint_project(project.models_dir, raw, project.dialect, project.published_schema)
    for violation in violations:
        print(relative(str(violation)), flush=True)
        print_excerpt(violation.location)
    if violations:
        print(f"{len(violations)} problem(s) in {len(context.models) + len(context.parse_errors)} model(s)",
              file=sys.stderr)
        return 1
    contracts = check_contracts(project, target, context)
    print(f"{len(context.models)} model(s) OK, {len(contracts)} contract(s) OK", file=sys.stderr)
    lint_cache.remember(project, state, len(context.models), len(contracts))
    return 0


def _with_warehouse(args: argparse.Namespace, action: Callable) -> int:
    from elt import warehouse

    project, target = with_warehouse(args)
    with warehouse.exclusive(target):
        con = warehouse.connect(target)
        try:
            return action(project, con)
        finally:
            con.close()


def cmd_history(args: argparse.Namespace) -> int:
    """Publications and rollbacks, and between them the runs a failed check or build blocked, newest first."""
    from elt import blocked, publish

    def show(project, con) -> int:
        entries = [*publish.history(con, limit=args.limit), *blocked.recent(con, limit=args.limit)]
        entries.sort(key=lambda e: e.published_at if isinstance(e, publish.Publication) else e.blocked_at,
                     reverse=True)
        entries = entries[:args.limit] if args.limit else entries
        if args.json:
            print_json([{**asdict(e), "kind": "blocked"} if isinstance(e, blocked.BlockedRun) else
                        {**asdict(e), "published_schema": project.published_schema} for e in entries])
            return 0
        for entry in entries:
            if isinstance(entry, blocked.BlockedRun):
                what = f"{len(entry.failures)} {'check' if entry.reason == 'gate' else 'model'}(s) failed"
                print(f"{'-':>4}  {entry.blocked_at:%Y-%m-%d %H:%M:%S}  {'blocked':<8}  {what:<22}  run {entry.run_id}")
                shown = entry.failures if args.verbose else entry.failures[:3]
                for line in shown:
                    print(f"        {line[:160]}")
                if len(shown) < len(entry.failures):
                    print(f"        ... {len(entry.failures) - len(shown)} more (elt history -v)")
                continue
            what = f"restores {entry.restores}" if entry.kind == "rollback" else \
                f"checks {entry.summary.get('passed', '?')}/{entry.summary.get('checks', '?')} passed"
            print(f"{entry.id:>4}  {entry.published_at:%Y-%m-%d %H:%M:%S}  {entry.kind:<8}  {what:<22}  "
                  f"run {entry.run_id}")
            if args.verbose:
                for model, relation in entry.models.items():
                    print(f"        {project.published_schema}.{model} -> {relation}")
        if entries:
            sys.stdout.flush()
            print("each check's values over these runs, and the rows a blocked run kept: elt checks [MODEL]",
                  file=sys.stderr)
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
        cmd.add_argument("--json", action="store_true", help="print what the run did as one JSON object (a "
                         "blocked run too, with status blocked and the error; exit 1)")
        cmd.add_argument("--docs", nargs="?", const=str(DOCS_DIR), metavar="DIR",
                         help=f"write the docs site after the run if it passes its gate (default {DOCS_DIR})")
    command("extract", cmd_extract, "extract and load sources only").add_argument(
        "sources", nargs="*", metavar="SOURCE")
    command("sources", cmd_sources, "list declared sources: cursors, last load, rows per raw table").add_argument(
        "--json", action="store_true", help="as JSON: one object per source")
    lint_cmd = command("lint", cmd_lint, "lint every model and contract; exit 1 on any problem")
    lint_cmd.add_argument("--no-cache", action="store_true",
                          help="lint every file even if nothing changed since the last clean lint")
    compile_cmd = command("compile", cmd_compile, "print the SQL each model runs as on a dialect")
    compile_cmd.add_argument("models", nargs="*", metavar="MODEL", help="default: every model")
    compile_cmd.add_argument("--dialect", choices=tuple(dict.fromkeys(TARGET_DIALECTS.values())),
                             help="default: the target's dialect")
    plan_cmd = command("plan", cmd_plan, "what a run would build and publish, and why; writes nothing")
    plan_cmd.add_argument("--select", nargs="+", metavar="SELECTOR", help="as for `elt run`")
    plan_cmd.add_argument("--exclude", nargs="+", metavar="SELECTOR", default=[], help="as for `elt run`")
    plan_cmd.add_argument("--full-refresh", nargs="+", metavar="MODEL", default=[], help="as for `elt run`")
    plan_cmd.add_argument("--json", action="store_true", help="as JSON: each model's action and reason")
    checks_cmd = command("checks", cmd_checks, "each check's measured value over the last runs (blocked ones too)")
    checks_cmd.add_argument("models", nargs="*", metavar="MODEL", help="default: every model with a contract")
    checks_cmd.add_argument("--runs", type=_positive, default=8, help="how many of the last runs (default 8)")
    checks_cmd.add_argument("--json", action="store_true",
                            help="as JSON: {checks: one object per outcome, oldest first; failed_rows: those kept}")
    verify_cmd = command("verify", cmd_verify, "verify the contracts against what is published now; publish nothing")
    verify_cmd.add_argument("models", nargs="*", metavar="MODEL", help="default: every model with a contract")
    verify_cmd.add_argument("--last-build", action="store_true",
                            help="against the versions the last run built, when its gate blocked them (after a "
                                 "contract fix, without building again)")
    verify_cmd.add_argument("--json", action="store_true", help="as JSON: the summary and every check's outcome")
    lineage = command("lineage", cmd_lineage, "where a column comes from, model by model down to the raw column and "
                      "its source; --downstream: what a change to it reaches")
    lineage.add_argument("column", metavar="MODEL.COLUMN",
                         help="a model's column (orders.amount), or a raw one (raw_shop.orders.amount)")
    lineage.add_argument("--downstream", action="store_true",
                         help="every model column and published column a change to this column would affect")
    lineage.add_argument("--json", action="store_true", help="as JSON: each column and what it is computed from "
                         "(--downstream: the columns, models and published columns it reaches)")
    docs = command("docs", cmd_docs, "write the docs site: models, columns and their lineage, checks, sources; "
                   "static, offline, opens from file://")
    docs.add_argument("--out", metavar="DIR", help="where to write it (default: .elt/docs in the project; the "
                      "folder is replaced)")
    show = command("show", cmd_show, "rows of a model as it would publish: its SQL now, over what is published")
    show.add_argument("model", metavar="MODEL")
    show.add_argument("--limit", type=_positive, default=10, help="at most this many rows (default 10)")
    history = command("history", cmd_history, "list publications and blocked runs, newest first")
    history.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    history.add_argument("-v", "--verbose", action="store_true", help="show each model's version, every failure")
    history.add_argument("--json", action="store_true", help="as JSON: one object per publication or blocked run "
                         "(kind: blocked), newest first")
    command("rollback", cmd_rollback, "point every published name back at the previous publication")
    return parser


if __name__ == "__main__":
    entry()
