"""L003: a column that none of the relations read by its query has (schema-aware)."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from transforms.schema import scopes, selected_columns

CODE = "L003"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        for scope in scopes(model):
            sources = selected_columns(scope, context.relations)
            outer = _outer_sources(scope, context.relations)
            aliases = {s.alias.lower() for s in getattr(scope.expression, "selects", []) if s.alias}
            for column in scope.columns:
                name, table = column.name.lower(), column.table.lower()
                if not name or isinstance(column.this, exp.Star):
                    continue
                if table:
                    cols = sources.get(table, outer.get(table, ...))
                    if cols is ...:
                        if not any(c and table in c for c in sources.values()):  # else struct field access
                            yield Violation(CODE, f"{column.sql()}: no relation named {table} in this query",
                                            model.location(column))
                    elif cols is not None and name not in cols:
                        yield Violation(CODE, f"column {column.sql()} does not exist (has: {', '.join(cols)})",
                                        model.location(column))
                    continue
                known = [cols for cols in (*sources.values(), *outer.values())]
                if any(cols is None for cols in known) or name in aliases:
                    continue
                if not any(name in cols for cols in known):
                    yield Violation(CODE, f"column {name} does not exist in any relation this query reads",
                                    model.location(column))


def _outer_sources(scope, relations) -> dict:
    """Relations of enclosing queries, visible to correlated subqueries."""
    found: dict = {}
    parent = scope.parent
    while parent is not None:
        for alias, cols in selected_columns(parent, relations).items():
            found.setdefault(alias, cols)
        parent = parent.parent
    return found
