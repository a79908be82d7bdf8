"""L005: `SELECT *` in a mart: consumers' columns would change whenever an upstream changes."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

CODE = "L005"
MART_LAYER = "marts"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        if model.layer != MART_LAYER:
            continue
        for select in model.ast.find_all(exp.Select):
            for projection in select.selects:
                if isinstance(projection, exp.Star) or (
                        isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)):
                    yield Violation(CODE, "SELECT * in a mart: list the columns consumers get",
                                    model.location(select))
