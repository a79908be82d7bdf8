"""Column-level knowledge of a project: which columns each raw table and each model has.

Raw tables come from the warehouse (or the sources' declared schemas before the first load); each
model's output columns are derived from its SQL in dependency order, so lint can check every column
reference against the relations a query reads.
"""
from __future__ import annotations

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope, traverse_scope

from transforms.models import Model

# relation key ("raw_shop.orders" or a model name) -> lower-case column names; None when unknowable
Relations = dict[str, "list[str] | None"]


def relation_key(table: exp.Table) -> str:
    return f"{table.db}.{table.name}".lower() if table.db else table.name.lower()


def selected_columns(scope: Scope, relations: Relations) -> dict[str, list[str] | None]:
    """Alias -> columns of each relation in this scope's FROM/JOIN (None when unknown)."""
    result: dict[str, list[str] | None] = {}
    for alias, (_node, source) in scope.selected_sources.items():
        if isinstance(source, Scope):
            result[alias.lower()] = scope_outputs(source, relations)
        elif isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            result[alias.lower()] = relations.get(relation_key(source))
        else:
            result[alias.lower()] = None  # table functions, unnest: columns not known statically
    return result


def scope_outputs(scope: Scope, relations: Relations) -> list[str] | None:
    """Names a scope's SELECT produces, expanding stars where the sources are known."""
    query = scope.expression
    if isinstance(query, exp.SetOperation):
        return scope_outputs(scope.union_scopes[0], relations)
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
        for cols in picked:
            names.extend(c for c in cols if c not in excluded and c not in names)
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
