"""L009: an incremental model whose query gives other rows when it reads only the new rows of its driver.

An incremental build evaluates the query over the driving relation's new rows and appends or merges the
result; transforms.delta_shape decides whether that equals a full rebuild. Lint reports its refusals before
a run, so the builder never meets them.
"""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from elt.errors import Location
from transforms.delta_shape import analyze
from transforms.models import Model

CODE = "L009"
PREFIX = "incremental model cannot be evaluated on new rows only: "


def check(context) -> Iterator:
    from transforms.lint import Violation

    models = context.by_name
    for model in context.models:
        if model.materialized != "incremental":
            continue
        shape = analyze(model, models)
        if isinstance(shape, list):
            for problem in shape:
                yield Violation(CODE, PREFIX + str(problem), _location(model, problem.node))


def _location(model: Model, node: exp.Expression | None) -> Location:
    """Where the node starts: sqlglot keeps token offsets on identifiers, literals and stars, so `count(*)` or
    `LIMIT 10` have a position too, unlike with Model.location."""
    if node is None:
        return model.location()
    starts = [n.meta["start"] for n in node.walk() if "start" in n.meta]
    if not starts:
        return model.location()
    start = min(starts)
    line = model.text.count("\n", 0, start) + 1
    return Location(model.path, line, start - (model.text.rfind("\n", 0, start) + 1) + 1)
