"""L003: a column that none of the relations read by its query has (schema-aware)."""
from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from transforms.schema import own_columns, scopes, visible_columns

CODE = "L003"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for model in context.models:
        for scope in scopes(model):
            sources = visible_columns(scope, context.relations)
            outer = _outer_sources(scope, context.relations)
            aliases = _output_aliases(scope.expression)
            for column in own_columns(scope):
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


def _output_aliases(query: exp.Expression) -> set[str]:
    """Names a query's own clauses may use instead of a column: select aliases (DuckDB allows them in
    WHERE, GROUP BY, HAVING, QUALIFY and ORDER BY); after a UNION, ORDER BY names the output columns."""
    if isinstance(query, exp.SetOperation):
        return {n.lower() for n in query.named_selects}
    return {s.alias.lower() for s in getattr(query, "selects", []) if s.alias}


def _outer_sources(scope, relations) -> dict:
    """Relations of enclosing queries, visible to correlated subqueries and (DuckDB joins them laterally when
    they refer to them) to derived tables, but not to a CTE: it is defined before the query that reads it."""
    found: dict = {}
    while not scope.is_cte and scope.parent is not None:
        scope = scope.parent
        for alias, cols in visible_columns(scope, relations).items():
            found.setdefault(alias, cols)
    return found
