"""`elt lineage`: where a column comes from, model by model down to the raw column and its source, or
(`--downstream`) every model and published column a change to it would reach. Reads only."""
from __future__ import annotations

import argparse

from elt_cli.common import print_json, project_of


def cmd_lineage(args: argparse.Namespace) -> int:
    project = project_of(args)
    from sources.catalog import raw_relations_of
    from transforms.lineage import parse_ref, project_lineage
    from transforms.plan import make_plan

    target = project.target(args.target)
    plan = make_plan(project.models_dir, raw_relations_of(project, target), "duckdb", project.published_schema)
    lineage = project_lineage(plan.models, plan.relations)
    ref = parse_ref(args.column, lineage, project.published_schema)
    loaded_by = {source.dataset: name for name, source in project.sources.items()}

    def source_of(relation: str) -> str | None:
        return loaded_by.get(relation.split(".")[0]) if "." in relation else None

    if args.downstream:
        impact = lineage.downstream(ref)
        published = [f"{project.published_schema}.{c}" for c in impact.published]
        if args.json:
            print_json({"column": str(ref), "values": [str(c) for c in impact.columns],
                        "rows_of": list(impact.row_models), "rows_changed": list(impact.rows_changed),
                        "published": published})
            return 0
        print(f"a change to {ref} reaches")
        print(f"  values of:   {', '.join(map(str, impact.columns)) or 'no model column'}")
        rows = f"{', '.join(impact.row_models)} (it filters, joins or groups them)" if impact.row_models else "none"
        print(f"  rows of:     {rows}")
        downstream = [m for m in impact.rows_changed if m not in impact.row_models]
        if downstream:
            print(f"  and so every column of what reads them: {', '.join(downstream)}")
        print(f"published columns that may change ({len(published)}):")
        for name in published:
            print(f"  {name}")
        return 0
    steps = lineage.upstream(ref)
    if args.json:
        print_json({"column": str(ref), "steps": [
            {"column": str(s.ref), "from": [str(i) for i in s.inputs], "source": source_of(s.ref.relation),
             "raw": s.ref.relation not in plan.models, **({"rows": [str(r) for r in s.rows]} if s.rows else {})}
            for s in steps]})
        return 0
    by_ref = {s.ref: s for s in steps}
    printed: set = set()

    def show(ref, prefix: str, last: bool, top: bool) -> None:
        branch = "" if top else ("└─ " if last else "├─ ")
        step = by_ref[ref]
        source = source_of(ref.relation)
        note = (f"   raw, loaded by source {source}" if source else "   raw") if ref.relation not in plan.models \
            else "   (no column: computed from its rows)" if not step.inputs else \
            "   (see above)" if ref in printed and step.inputs else ""
        print(f"{prefix}{branch}{ref}{note}")
        if ref in printed:
            return
        printed.add(ref)
        inner = prefix + ("" if top else "   " if last else "│  ")
        for n, upstream in enumerate(step.inputs):
            show(upstream, inner, n == len(step.inputs) - 1, False)

    show(ref, "", True, True)
    if steps[0].rows:
        print(f"rows of {ref.relation}: filtered, joined or grouped by {', '.join(map(str, steps[0].rows))}")
    return 0
