"""Whether an incremental model can be built from new rows only, and how: its delta shape.

An incremental model is evaluated over the new rows of one driving relation (a raw table's rows from loads
newer than the last build, or an upstream incremental model's latest rows) and appended (no unique_key) or
merged: rows whose key is among the driver's new rows are deleted, the delta inserted. That equals a full
rebuild only for some query shapes; `analyze` proves the shape or says, per problem, why it would not.
Grouped models (GROUP BY exactly the unique key) are evaluated over every driver row whose key is among the
new rows, so each touched group is recomputed whole.

Joins to other relations are allowed, read whole at build time. Rows already built are not revisited when
only a joined table changes (a customer's new country does not rewrite their old orders): a full refresh,
or a `table` model, is the answer when that matters. Pure functions: the builder and lint L009 agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlglot import exp

from transforms.models import Model
from transforms.schema import relation_key

TABLE_HINT = "make it `-- materialized: table`"


@dataclass(frozen=True)
class DeltaShape:
    """How to evaluate an incremental model on new rows: which relation drives it, and its merge keys."""

    driver: str  # key of the driving relation as in TableRef.key: a model name or "schema.table"
    driver_alias: str  # the alias (or name) under which the model's query reads it
    keys: dict[str, str] = field(default_factory=dict)  # unique_key output column -> the driver's column
    grouped: bool = False  # the query aggregates, grouped by exactly the unique key columns
    origin: str = ""  # the raw table or incremental model whose new rows these are (driver, unless via views)


@dataclass(frozen=True)
class ShapeProblem:
    """Why the model cannot be evaluated on new rows only, where in its query, and what to do instead."""

    message: str
    node: exp.Expression | None
    hint: str = TABLE_HINT

    def __str__(self) -> str:
        return f"{self.message} — {self.hint}"


@dataclass(frozen=True)
class _Driver:
    """The driving relation as the outermost query reads it (`joined`/`using`: whose unqualified columns)."""

    key: str
    alias: str
    joined: bool
    using: frozenset[str]


def analyze(model: Model, models: dict[str, Model]) -> DeltaShape | list[ShapeProblem]:
    """The delta shape of a model (incremental, or a view an incremental model reads), or every problem."""
    shape = _analyze(model, models, frozenset({model.name}))
    upstream = models.get(shape.origin) if isinstance(shape, DeltaShape) else None
    if upstream is not None and upstream.unique_key and not model.unique_key and model.materialized == "incremental":
        return [ShapeProblem(f"{upstream.name} replaces rows by {', '.join(upstream.unique_key)}, so its new rows "
                             "include new versions of rows built before, and appending them keeps the old versions "
                             "too", None, "set `-- unique_key:`, or " + TABLE_HINT)]
    return shape


def _analyze(model: Model, models: dict[str, Model], seen: frozenset[str]) -> DeltaShape | list[ShapeProblem]:
    query = model.ast
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.SetOperation):
        return [ShapeProblem(f"the query is a {query.key.upper()} of several SELECTs, and only one relation's "
                             "new rows can drive an incremental model", query.expression,
                             "build each branch as its own incremental model and combine them in a view, "
                             "or " + TABLE_HINT)]
    if not isinstance(query, exp.Select):
        return [ShapeProblem("the query is not a plain SELECT", query)]
    problems = _whole_relation(model.ast, query)
    table = _driver_table(model, query)
    if isinstance(table, ShapeProblem):
        problems.append(table)
        driver, origin = None, ""
    else:
        joins = query.args.get("joins") or []
        driver = _Driver(relation_key(table), table.alias_or_name.lower(), bool(joins),
                         frozenset(i.name.lower() for j in joins for i in j.args.get("using") or []))
        origin = _origin(driver.key, table, models, seen)
        problems.extend(origin if isinstance(origin, list) else [])
        if model.unique_key and table.alias_column_names:  # `AS o(a, b)` renames columns we cannot see
            problems.append(ShapeProblem(f"{driver.key} is read with a column list, so its columns cannot be "
                                         "matched to the unique key", table, "rename in the SELECT instead"))
    keys = _keys(model, query, driver, problems) if driver else {}
    grouped = _grouping(model, query, driver, keys, problems)
    if problems:
        return problems
    assert driver is not None and isinstance(origin, str)
    return DeltaShape(driver.key, driver.alias, keys, grouped, origin)


def _whole_relation(ast: exp.Expression, query: exp.Select) -> list[ShapeProblem]:
    """Window functions anywhere, and clauses of the outermost query, whose result depends on all rows at once."""
    problems = []
    for window in ast.find_all(exp.Window, bfs=False):
        if window.arg_key == "windows":
            continue  # a named definition (`WINDOW w AS ...`): reported where a function uses it
        function = window.this
        while not isinstance(function, exp.Func) and isinstance(function.this, exp.Expression):
            function = function.this  # under FILTER (...) or IGNORE NULLS
        name = function.name if isinstance(function, exp.Anonymous) else function.sql_name()
        problems.append(ShapeProblem(f"{name.lower()}() is a window function over the whole relation, but "
                                     "only new rows are read, so it would not see the rows built before", window))
    for key, what in (("limit", "LIMIT keeps some rows of the whole result, not of each run's new rows"),
                      ("offset", "OFFSET skips rows of the whole result, not of each run's new rows"),
                      ("qualify", "QUALIFY filters on window functions, which see the whole relation")):
        if query.args.get(key) is not None:
            problems.append(ShapeProblem(what, query.args[key]))
    problems += [ShapeProblem("PIVOT aggregates rows across the whole relation, but only new rows are read", p)
                 for p in query.find_all(exp.Pivot) if p.find_ancestor(exp.Select) is query]
    return problems


def _driver_table(model: Model, query: exp.Select) -> exp.Table | ShapeProblem:
    """The one node reading the driving relation: `delta_from`, else the outermost FROM's table."""
    ctes = {cte.alias_or_name.lower() for cte in model.ast.find_all(exp.CTE)}
    reads = [(relation_key(t), t) for t in model.ast.find_all(exp.Table)
             if isinstance(t.this, exp.Identifier) and (t.db or t.name.lower() not in ctes)]
    from_ = query.args.get("from_")
    first = from_.this if from_ is not None else None
    move = "read the driving table directly in the outermost FROM (or a join of it), or " + TABLE_HINT
    if model.delta_from:
        key = model.delta_from
        if key not in {k for k, _ in reads}:
            names = ", ".join(dict.fromkeys(k for k, _ in reads)) or "no table"
            return ShapeProblem(f"delta_from names {key}, but the query reads {names}", None,
                                "name one of those in `-- delta_from:`, or " + TABLE_HINT)
    elif isinstance(first, exp.Table) and isinstance(first.this, exp.Identifier) and (
            first.db or first.name.lower() not in ctes):
        key = relation_key(first)
    else:
        what = ("reads no table" if first is None else f"reads the CTE {first.name}" if isinstance(first, exp.Table)
                and isinstance(first.this, exp.Identifier) else "reads a subquery" if isinstance(first, exp.Subquery)
                else "reads a table function")
        return ShapeProblem(f"the outermost FROM {what}, so no relation's new rows can drive the model: the new "
                            "rows are taken only from a table the outermost query reads directly", first,
                            "read the driving table in the outermost FROM, or " + TABLE_HINT)
    matches = [t for k, t in reads if k == key]
    if len(matches) > 1:
        return ShapeProblem(f"{key} is read {len(matches)} times (a self join or a subquery over it); every read "
                            "would see only the new rows, not the rows built before", matches[1],
                            "read it once, or " + TABLE_HINT)
    table = matches[0]
    if table.parent is None or table.parent.parent is not query:
        cte = table.find_ancestor(exp.CTE)
        inside = f"the CTE {cte.alias_or_name}" if cte is not None else "a subquery"
        return ShapeProblem(f"{key} is read inside {inside}; the toolkit restricts the driving relation to its new "
                            "rows only where the outermost query reads it directly", table, move)
    joins = query.args.get("joins") or []
    position = next((i for i, join in enumerate(joins) if join is table.parent), -1)
    for index, join in enumerate(joins):
        if index == position and join.kind in ("SEMI", "ANTI"):
            return ShapeProblem(f"{key} is only a filter in a {join.kind} join, so its rows are not the model's "
                                "rows", table, move)
        if (index == position and join.side in ("LEFT", "FULL")) or (
                index > position and join.side in ("RIGHT", "FULL")):
            return ShapeProblem(f"{key} is on the nullable side of an outer join, so the model has rows without "
                                "it, and those are never among its new rows", table,
                                "make it the preserved side (FROM it, LEFT JOIN the rest), or " + TABLE_HINT)
    return table


def _origin(key: str, table: exp.Table, models: dict[str, Model], seen: frozenset[str]) -> str | list[ShapeProblem]:
    """The raw table or incremental model the new rows come from, following views that pass them on."""
    if "." in key:
        return key
    upstream = models.get(key)
    if upstream is None or upstream.materialized == "incremental":
        return key  # an unknown name is L002's to report
    if upstream.materialized == "table":
        return [ShapeProblem(f"{key} is a `table` model: it is rebuilt whole every run, so it has no new rows "
                             "to drive this model", table,
                             f"drive it from a raw table or an incremental model (`-- delta_from:`), make {key} "
                             "incremental, or make this model `-- materialized: table`")]
    if key in seen:
        return [ShapeProblem(f"{key} reads this model back (a dependency cycle)", table, "break the cycle")]
    shape = _analyze(upstream, models, seen | {key})
    if isinstance(shape, DeltaShape):
        return shape.origin
    hint = f"make {key} pass rows through one by one, drive this model from another relation, or {TABLE_HINT}"
    return [ShapeProblem(f"{key} is a view that cannot pass on only new rows: {p.message}", table, hint)
            for p in shape]


def _keys(model: Model, query: exp.Select, driver: _Driver, problems: list[ShapeProblem]) -> dict[str, str]:
    """unique_key output column -> the driver's column it is; a problem for each key that is not one."""
    outputs: dict[str, exp.Expression] = {}
    stars: list[exp.Star] = []
    for projection in query.selects:
        star = projection if isinstance(projection, exp.Star) else projection.this if (
            isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)) else None
        if star is None:
            outputs.setdefault(projection.alias_or_name.lower(), projection)
        elif (projection.table.lower() == driver.alias) if isinstance(projection, exp.Column) else not driver.joined:
            stars.append(star)
    keys = {}
    why = f"the rows to replace are found from the new rows of {driver.key}, so a key must be its column, as is"
    for key in model.unique_key:
        node = outputs.get(key)
        if node is None and (found := _through_star(key, stars)):
            keys[key] = found
        elif node is None:
            problems.append(ShapeProblem(f"unique_key {key} is not an output column of the model (it has "
                                         f"{', '.join(outputs) or 'only *'}); {why}", query.selects[0],
                                         f"select it from {driver.alias}, or fix `-- unique_key:`"))
        elif isinstance(column := _driver_column(node.unalias(), driver), str):
            keys[key] = column
        else:
            problems.append(ShapeProblem(f"unique_key {key} {column[0]}; {why}", node, column[1]))
    return keys


def _through_star(key: str, stars: list[exp.Star]) -> str | None:
    """The driver column a `*` (or `alias.*`) of the driver outputs as `key`, honouring EXCLUDE/REPLACE/RENAME."""
    for star in stars:
        renamed = {a.alias.lower(): a.this.name.lower() for a in star.args.get("rename") or []}
        gone = {c.name.lower() for c in star.args.get("except_") or []} | set(renamed.values()) | {
            a.alias.lower() for a in star.args.get("replace") or []}
        if key in renamed or key not in gone:
            return renamed.get(key, key)
    return None


def _driver_column(node: exp.Expression, driver: _Driver) -> str | tuple[str, str]:
    """The driver's column a projection is, or (why it is not, what to do)."""
    if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
        name, table = node.name.lower(), node.table.lower()
        if table == driver.alias or (not table and (not driver.joined or name in driver.using)):
            return name
        if not table:
            return ("is not qualified and the query joins other relations",
                    f"write {driver.alias}.{name}, so it is certainly the driving relation's column")
        return (f"comes from {table}, not from the driving relation {driver.key}",
                f"select it from {driver.alias}, or name {table}'s relation in `-- delta_from:`")
    return (f"is computed (`{_sql(node)}`), not a plain column of the driving relation {driver.key}",
            f"select the column of {driver.alias} as is (compute in a column that is not the key), or " + TABLE_HINT)


def _grouping(model: Model, query: exp.Select, driver: _Driver | None, keys: dict[str, str],
              problems: list[ShapeProblem]) -> bool:
    """True when the query aggregates by exactly its unique key; problems for any other aggregation."""
    group = query.args.get("group")
    distinct = query.args.get("distinct")
    aggregates = [a for a in query.find_all(exp.AggFunc)
                  if isinstance(a.find_ancestor(exp.Window, exp.Pivot, exp.Select), exp.Select)
                  and a.find_ancestor(exp.Select) is query]
    where = aggregates[0] if aggregates else group
    if not (group or aggregates or distinct):
        return False
    if not model.unique_key and (group or aggregates):
        what = f"{_sql(where)} aggregates" if aggregates else "GROUP BY aggregates"
        problems.append(ShapeProblem(f"{what} rows, but only new rows are read, so it would leave out the rows of "
                                     "earlier loads", where,
                                     "GROUP BY columns of the driving relation and name them in `-- unique_key:` "
                                     "(each touched group is then recomputed whole), or " + TABLE_HINT))
        return False
    if not group:
        if aggregates:
            problems.append(ShapeProblem(f"{_sql(where)} aggregates the whole relation into one row "
                                         "(no GROUP BY), but only new rows are read", where))
        else:
            problems.append(ShapeProblem("DISTINCT removes duplicates across the whole relation, which new rows "
                                         "alone cannot see", query.selects[0],
                                         "GROUP BY the columns named in `-- unique_key:`, or " + TABLE_HINT))
        return False
    if driver is None:
        return False  # the driver's problem is reported; grouping cannot be matched to it
    if group.args.get("all"):
        items = [(s, s) for s in query.selects if not s.find(exp.AggFunc)]
    else:
        items = [(e, _projection(e, query)) for e in group.expressions]
    columns, before = [], len(problems)
    for written, projection in items:
        node = projection.unalias() if projection is not None else written
        if projection is not None and projection.alias_or_name.lower() in set(model.unique_key) - set(keys):
            continue  # the key's own problem says why
        if isinstance(node, (exp.Rollup, exp.Cube, exp.GroupingSets)):
            problems.append(ShapeProblem(f"{node.key.upper()} adds subtotal rows over many keys at once", written))
            continue
        if isinstance(column := _driver_column(node, driver), str):
            columns.append(column)
        else:
            problems.append(ShapeProblem(f"GROUP BY {_sql(node)} {column[0]}; a grouped incremental "
                                         "model groups by exactly its unique key, columns of the driving relation",
                                         written, column[1]))
    if len(problems) > before or len(keys) < len(model.unique_key):
        return False
    if set(columns) != set(keys.values()):
        problems.append(ShapeProblem(f"the query groups by {', '.join(columns)} but its unique_key is "
                                     f"{', '.join(model.unique_key)}: each touched group must be exactly one key "
                                     "to replace", items[0][0] if items else group,
                                     "GROUP BY exactly the unique key columns, or " + TABLE_HINT))
        return False
    return True


def _projection(node: exp.Expression, query: exp.Select) -> exp.Expression | None:
    """The projection a GROUP BY item names by ordinal or select alias, if it does."""
    if isinstance(node, exp.Literal) and node.is_int and 0 < int(node.name) <= len(query.selects):
        return query.selects[int(node.name) - 1]
    if isinstance(node, exp.Column) and not node.table:
        for projection in query.selects:
            if isinstance(projection, exp.Alias) and projection.alias.lower() == node.name.lower():
                return projection
    return None


def _sql(node: exp.Expression) -> str:
    return node.sql(dialect="duckdb", normalize_functions="lower")
