"""L005: `SELECT *` in a mart: consumers' columns would change whenever an upstream changes."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from elt.errors import Location

CODE = "L005"
MART_LAYER = "marts"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        if model.layer != MART_LAYER:
            continue
        for select in _output_selects(model.ast):
            for projection in select.selects:
                if isinstance(projection, exp.Star) or (
                        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)):
                    yield Violation(CODE, "SELECT * in a mart: list the columns consumers get",
                                    _location(model, projection))


def _output_selects(query: exp.Expression) -> Iterator[exp.Select]:
    """The SELECTs whose projections become the model's columns: a star inside a CTE or an EXISTS
    subquery does not reach consumers."""
    if isinstance(query, exp.SetOperation):
        yield from _output_selects(query.this)
        yield from _output_selects(query.expression)
    elif isinstance(query, exp.Subquery):
        yield from _output_selects(query.this)
    elif isinstance(query, exp.Select):
        yield query


def _location(model, projection: exp.Expression) -> Location:
    """Where the star is: a bare `*` has no identifier for Model.location, but sqlglot keeps its token offset."""
    start = projection.meta.get("start") if isinstance(projection, exp.Star) else None
    if start is None:
        return model.location(projection)
    line = model.text.count("\n", 0, start) + 1
    return Location(model.path, line, start - (model.text.rfind("\n", 0, start) + 1) + 1)
