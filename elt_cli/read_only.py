"""Commands that look without writing: compile, plan, verify, show. None starts Prefect or takes the
writer lock; on DuckDB they open the warehouse read-only."""
from __future__ import annotations

import argparse
import sys
from dataclasses import asdict

from elt.errors import EltError
from elt_cli.common import check_contracts, check_selection, print_json, project_of, with_warehouse


def cmd_compile(args: argparse.Namespace) -> int:
    project = project_of(args)
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
    project, target = with_warehouse(args)
    from elt import publish, warehouse
    from sources.catalog import raw_relations
    from transforms import provenance, selection
    from transforms.build import plan_versions
    from transforms.plan import make_plan

    check_selection(project, args)
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
        print_json({"target": target.name, "publication": pub.id if pub else None, "extract_first": sources,
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
    """The contracts against what is published now, or (`--last-build`) against the candidates of the last run
    when its gate blocked them; nothing is built, written or published."""
    project, target = with_warehouse(args)
    from checks.gate import decide
    from checks.verify import verify_build
    from elt import clock, warehouse

    contracts = check_contracts(project, target)
    for name in args.models:
        if name not in contracts:
            raise EltError(f"model {name!r} has no contract", hint=f"models with one: {', '.join(sorted(contracts))}")
    wh = warehouse.connect(target, read_only=True)
    try:
        against, relations, audited = _verified_versions(wh, target, args.last_build)
        names = [n for n in sorted(args.models or contracts) if n in audited]
        outcomes = [o for name in names for o in verify_build(
            wh, contracts[name], audited[name], clock.now(), candidate=relations[name],
            refs={m: relations[m] for m in contracts[name].refs if m in relations})]
    finally:
        wh.close()
    report = decide(outcomes)
    if args.json:
        print_json({"against": against, "target": target.name, **report.summary,
                     "outcomes": [asdict(o) | {"passed": o.passed} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            column = f" on {o.column}" if o.column else ""
            print(f"{o.outcome:<8} {o.model}: {o.check}{column}  measured {o.shown_value}, "
                  f"threshold {o.threshold or '-'}")
        left = sorted(set(args.models or contracts) - set(names))
        if left:
            print(f"not verified ({'not built by that run' if args.last_build else 'nothing published yet'}): "
                  f"{', '.join(left)}", file=sys.stderr)
        print(f"checked  {report.summary['passed']}/{report.summary['checks']} checks passed against {against} on "
              f"{target.name}; nothing was published", file=sys.stderr)
    return 0 if report.passed else 1


def _verified_versions(wh, target, last_build: bool) -> tuple[str, dict[str, str], dict[str, str]]:
    """(what is verified, model -> relation, model -> what its contract checks) for `elt verify`: the
    publication in effect, or the candidates of the last run if its gate blocked them (with what is
    published for the models it did not build)."""
    from elt import blocked, publish
    from elt.warehouse import exists

    pub = publish.current(wh)
    pointers = {**pub.models, **{m: r for m, r in pub.internal.items() if "@" not in m}} if pub else {}
    if not last_build:
        if pub is None:
            raise EltError(f"nothing is published on {target.name} yet", hint="run `elt run` first")
        return f"publication {pub.id}", pointers, pointers
    last = blocked.recent(wh, limit=1)
    if not last or (pub is not None and pub.published_at > last[0].blocked_at):
        raise EltError("the last run was not blocked: what it built is what is published",
                       hint="run `elt verify` without --last-build")
    run = last[0]
    kept = [r for pair in run.candidates.values() for r in set(pair)]
    if not kept or not all(exists(wh, *r.split(".")) for r in kept):
        raise EltError(f"the candidates of blocked run {run.run_id} are gone (a later run replaced them)",
                       hint="run `elt build` to build them again")
    relations = pointers | {m: rel for m, (rel, _audit) in run.candidates.items()}
    return f"the candidates of blocked run {run.run_id}", relations, {m: a for m, (_rel, a) in run.candidates.items()}


def cmd_checks(args: argparse.Namespace) -> int:
    """Each check's recent history: the measured value of each of the last runs, oldest first."""
    project, target = with_warehouse(args)
    from checks.history import recent, samples
    from elt import warehouse

    wh = warehouse.connect(target, read_only=True)
    try:
        records = recent(wh, args.models or None, args.runs)
        kept = samples(wh, args.models or None)
    finally:
        wh.close()
    if args.json:
        print_json({"checks": [asdict(r) for r in records], "failed_rows": [asdict(f) for f in kept]})
        return 0
    if not records:
        print(f"no checks recorded on {target.name} yet" + (f" for {', '.join(args.models)}" if args.models else ""),
              file=sys.stderr)
        return 0
    runs = list(dict.fromkeys(r.run_id for r in records))
    trends: dict[tuple[str, str, str], dict[str, object]] = {}
    for r in records:
        trends.setdefault(r.key, {})[r.run_id] = r
    width = max(len(_check_label(k)) for k in trends)
    model = ""
    for key in sorted(trends):
        if key[0] != model:
            model = key[0]
            print(model)
        by_run = trends[key]
        cells = [_trend_cell(by_run.get(run)) for run in runs]
        last = by_run[max(by_run, key=runs.index)]
        print(f"  {_check_label(key):<{width}}  {' '.join(f'{c:>9}' for c in cells)}   {last.outcome:<8} "
              f"threshold {last.threshold or '-'}")
    _print_failed_rows(kept)
    sys.stdout.flush()  # the legend, on stderr, after the table
    print(f"the last {len(runs)} run(s) on {target.name} that checked anything, oldest first; ! did not pass, "
          f"- not checked in that run; {project.published_schema} is unchanged by this command", file=sys.stderr)
    return 0


def _print_failed_rows(kept: list) -> None:
    """The rows kept of the last run's failed checks: how many, the top values, three rows, the SQL."""
    if not kept:
        return
    print(f"\nfailed rows kept by run {kept[0].run_id} ({kept[0].checked_at:%Y-%m-%d %H:%M}):")
    for f in kept:
        total = "" if f.total is None else f" {f.total:g} row(s)"
        print(f"  {f.model}: {_check_label((f.model, f.check, f.column or ''))}:{total}")
        if f.values:
            print("    values: " + ", ".join(f"{v} ({n})" for v, n in f.values))
        for row in f.rows[:3]:
            print("    " + ", ".join(f"{c}={v}" for c, v in zip(f.columns, row, strict=False))[:200])
        print("    find them all: " + " ".join(f.sql.split()))


def _check_label(key: tuple[str, str, str]) -> str:
    return key[1] + (f" on {key[2]}" if key[2] else "")


def _trend_cell(record) -> str:
    if record is None:
        return "-"
    value = "" if record.value is None else f"{record.value:.4g}"
    return (value or record.outcome.lower()) + ("" if record.outcome in ("PASSED", "WARN") else "!")


def cmd_show(args: argparse.Namespace) -> int:
    """The model's SQL as it is now, over what the publication in effect holds: what it would publish."""
    project, target = with_warehouse(args)
    from elt import warehouse
    from sources.catalog import raw_relations_of
    from transforms.compile import compile_model
    from transforms.plan import make_plan
    from transforms.selection import resolve

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
