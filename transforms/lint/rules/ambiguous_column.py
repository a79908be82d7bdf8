"""L004: an unqualified column that more than one joined relation has (or a table alias used twice)."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from transforms.schema import duplicate_aliases, own_columns, scopes, selected_columns

CODE = "L004"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        for scope in scopes(model):
            for alias, node in duplicate_aliases(scope).items():
                yield Violation(CODE, f"table alias {alias} is used twice in one FROM clause; "
                                      "give each relation its own alias", model.location(node))
            sources = selected_columns(scope, context.relations)
            if len(sources) < 2:
                continue
            merged = _merged_columns(scope.expression, sources)
            for column in own_columns(scope):
                name = column.name.lower()
                if column.table or not name or name in merged or isinstance(column.this, exp.Star):
                    continue
                owners = sorted(alias for alias, cols in sources.items() if cols and name in cols)
                if len(owners) > 1:
                    yield Violation(CODE, f"column {name} is ambiguous: it exists in {', '.join(owners)}; "
                                          f"qualify it (e.g. {owners[0]}.{name})", model.location(column))


def _merged_columns(query: exp.Expression, sources: dict) -> set[str]:
    """Columns merged by JOIN ... USING or a NATURAL JOIN, which DuckDB resolves without ambiguity."""
    names: set[str] = set()
    for join in query.args.get("joins") or []:
        names.update(i.name.lower() for i in join.args.get("using") or [])
        if join.method.upper() == "NATURAL":
            right = join.this.alias_or_name.lower()
            left = {c for alias, cols in sources.items() if alias != right for c in cols or ()}
            names.update(c for c in sources.get(right) or () if c in left)
    return names
