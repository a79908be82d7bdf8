"""L004: an unqualified column that more than one joined relation has."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from transforms.schema import scopes, selected_columns

CODE = "L004"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        for scope in scopes(model):
            sources = selected_columns(scope, context.relations)
            if len(sources) < 2:
                continue
            merged = _using_columns(scope.expression)
            for column in scope.columns:
                name = column.name.lower()
                if column.table or not name or name in merged or isinstance(column.this, exp.Star):
                    continue
                owners = sorted(alias for alias, cols in sources.items() if cols and name in cols)
                if len(owners) > 1:
                    yield Violation(CODE, f"column {name} is ambiguous: it exists in {', '.join(owners)}; "
                                          f"qualify it (e.g. {owners[0]}.{name})", model.location(column))


def _using_columns(query: exp.Expression) -> set[str]:
    """Columns merged by JOIN ... USING, which DuckDB resolves without ambiguity."""
    names: set[str] = set()
    for join in query.args.get("joins") or []:
        names.update(i.name.lower() for i in join.args.get("using") or [])
    return names
