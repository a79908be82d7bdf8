"""Column-level knowledge of a project: which columns each raw table and each model has.

Raw tables come from the warehouse (or the sources' declared schemas before the first load); each
model's output columns are derived from its SQL in dependency order, so lint can check every column
reference against the relations a query reads.
"""
from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import OptimizeError
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope, walk_in_scope

from transforms.models import Model

# relation key ("raw_shop.orders" or a model name) -> lower-case column names; None when unknowable
Relations = dict[str, "list[str] | None"]


def relation_key(table: exp.Table) -> str:
    return f"{table.db}.{table.name}".lower() if table.db else table.name.lower()


def selected_columns(scope: Scope, relations: Relations) -> dict[str, list[str] | None]:
    """Alias -> columns of each relation in this scope's FROM/JOIN (None when unknown)."""
    if _pivoted(scope):
        return _pivoted_sources(scope)
    duplicated = set(_duplicates(scope))
    try:
        selected = {alias: source for alias, (_node, source) in scope.selected_sources.items()}
    except OptimizeError:  # an alias used twice: DuckDB rejects the query (L004 reports it), lint goes on
        selected = {alias: scope.sources.get(alias) for alias, _node in scope.references
                    if alias not in scope.semi_or_anti_join_tables}
    return {alias.lower(): None if alias.lower() in duplicated else _source_columns(source, relations)
            for alias, source in selected.items()}


def _pivoted(scope: Scope) -> bool:
    return any(isinstance(node, exp.Pivot) or (isinstance(node, exp.Subquery) and isinstance(node.this, exp.Pivot))
               for node in scope.walk())


def _pivoted_sources(scope: Scope) -> dict[str, list[str] | None]:
    """PIVOT/UNPIVOT output columns depend on the data: every relation of such a scope is unknown
    (sqlglot's scope does not even register them all, and fails on an aliased DuckDB PIVOT statement)."""
    items = [scope.expression.args.get("from_"), *(scope.expression.args.get("joins") or [])]
    names = {""}
    for item in (i.this for i in items if i is not None):
        names.add(item.alias_or_name.lower())
        names.update(p.alias.lower() for p in item.args.get("pivots") or [] if p.alias)
    return dict.fromkeys(names)


def duplicate_aliases(scope: Scope) -> dict[str, exp.Expression]:
    """Lower-case alias -> the FROM/JOIN item that reuses it (`FROM a AS x JOIN b AS x`)."""
    return {} if _pivoted(scope) else _duplicates(scope)


def _duplicates(scope: Scope) -> dict[str, exp.Expression]:
    seen: set[str] = set()
    found: dict[str, exp.Expression] = {}
    for alias, node in scope.references:
        if not alias:
            continue  # unaliased subqueries: DuckDB names them itself
        if alias.lower() in seen:
            found.setdefault(alias.lower(), node)
        seen.add(alias.lower())
    return found


def visible_columns(scope: Scope, relations: Relations) -> dict[str, list[str] | None]:
    """Like selected_columns, plus the right side of SEMI/ANTI joins (readable in their ON condition)."""
    result = selected_columns(scope, relations)
    for alias in scope.semi_or_anti_join_tables:
        if alias in scope.sources:
            result.setdefault(alias.lower(), _source_columns(scope.sources[alias], relations))
    return result


def _source_columns(source: exp.Expression | Scope, relations: Relations) -> list[str] | None:
    if isinstance(source, Scope):
        return scope_outputs(source, relations)
    if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
        return _renamed(relations.get(relation_key(source)), source.alias_column_names)
    return None  # table functions, unnest: columns not known statically


def _renamed(names: list[str] | None, aliases: list[str]) -> list[str] | None:
    """Apply a column alias list (`AS t(a, b)`, `WITH t(a, b) AS`): it renames the leading columns."""
    if names is None or not aliases:
        return names
    renamed = [a.lower() for a in aliases]
    return renamed + names[len(renamed):]


def own_columns(scope: Scope) -> list[exp.Column]:
    """The column references written in this scope itself.

    sqlglot's `Scope.columns` also lists the unqualified columns of child subqueries (it cannot tell
    whether they are correlated) and list-comprehension variables, and leaves out unqualified columns in
    HAVING and QUALIFY (they may be select aliases). A rule checks each column once, in the scope that
    contains it, so drop the former and add the latter.
    """
    children = (*scope.subquery_scopes, *scope.udtf_scopes, *scope.derived_table_scopes)
    skipped = {id(c) for child in children for c in child.external_columns}
    for comprehension in scope.comprehensions:  # [x * 2 for x in xs if x > 0]: x is not a column
        variable = comprehension.expression.name.lower()
        for part in (comprehension.this, comprehension.args.get("condition")):
            skipped.update(id(c) for c in (part.find_all(exp.Column) if part else ())
                           if not c.table and c.name.lower() == variable)
    columns = [c for c in scope.columns if id(c) not in skipped]
    seen = {id(c) for c in columns}
    for key in ("having", "qualify"):
        clause = scope.expression.args.get(key)
        if clause is None:
            continue
        for node in walk_in_scope(clause):
            if type(node) is exp.Column and id(node) not in seen and not isinstance(node.this, exp.Star):
                columns.append(node)
                seen.add(id(node))
    return columns


def scope_outputs(scope: Scope, relations: Relations) -> list[str] | None:
    """Names a scope's SELECT produces, expanding stars where the sources are known."""
    return _renamed(_scope_names(scope, relations), scope.outer_columns or _recursive_cte_columns(scope))


def _recursive_cte_columns(scope: Scope) -> list[str]:
    """sqlglot scopes a recursive CTE's self-reference as the base case alone, without the CTE's column list."""
    union = scope.expression.parent
    if isinstance(union, exp.SetOperation) and union.this is scope.expression and isinstance(union.parent, exp.CTE):
        return union.parent.alias_column_names
    return []


def _scope_names(scope: Scope, relations: Relations) -> list[str] | None:
    query = scope.expression
    if isinstance(query, exp.SetOperation):
        return scope_outputs(scope.set_operation_scopes[0], relations)
    if not isinstance(query, exp.Select):
        return None
    sources = selected_columns(scope, relations)
    names: list[str] = []
    for select in query.selects:
        star = select if isinstance(select, exp.Star) else select.this if (
            isinstance(select, exp.Column) and isinstance(select.this, exp.Star)) else None
        if star is None:
            names.append(select.alias_or_name.lower())
            continue
        picked = [sources.get(select.table.lower())] if isinstance(select, exp.Column) and select.table \
            else list(sources.values())
        if any(cols is None for cols in picked):
            return None
        excluded = {e.name.lower() for e in star.args.get("except_") or []}
        renamed = {r.this.name.lower(): r.alias.lower() for r in star.args.get("rename") or []}
        for cols in picked:
            names.extend(renamed.get(c, c) for c in cols if c not in excluded and renamed.get(c, c) not in names)
    return names


def model_outputs(model: Model, relations: Relations) -> list[str] | None:
    return scope_outputs(build_scope(model.ast), relations)


def project_relations(models: dict[str, Model], order: list[str], raw: Relations) -> Relations:
    """Raw tables plus every model's output columns, resolved upstream first."""
    relations: Relations = dict(raw)
    for name in order:
        relations[name] = model_outputs(models[name], relations)
    return relations


def scopes(model: Model) -> list[Scope]:
    return list(traverse_scope(model.ast))
