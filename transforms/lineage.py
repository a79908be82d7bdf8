"""Column lineage: which upstream columns each model column is computed from, and what a column change reaches.

Each model is traced once, over its own scopes (CTEs, subqueries, unions, `*`), against the columns the
project already knows for every relation (transforms/schema.py): an output column maps to the columns of
the relations it reads directly — another model or a raw table. Chains across models are walks over those
per-model edges, so a 1,000-model project is traced in one pass. Besides the columns a value is computed
from, a model's rows depend on the columns of its WHERE, JOIN, GROUP BY, HAVING and QUALIFY clauses: a
change to one of them can change every column of the model.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from difflib import get_close_matches

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, build_scope, walk_in_scope

from elt.errors import EltError
from transforms.graph import dependencies
from transforms.models import Model
from transforms.schema import Relations, relation_key, scope_outputs, selected_columns

ROW_CLAUSES = ("where", "group", "having", "qualify")


@dataclass(frozen=True, order=True)
class ColumnRef:
    relation: str  # a model name, or a raw table `raw_<source>.<table>`
    column: str

    def __str__(self) -> str:
        return f"{self.relation}.{self.column}"


@dataclass(frozen=True)
class ModelLineage:
    columns: dict[str, tuple[ColumnRef, ...]]  # output column -> the upstream columns its value is computed from
    rows: tuple[ColumnRef, ...]  # upstream columns that filter, join or group the model's rows


def model_lineage(model: Model, relations: Relations) -> ModelLineage:
    """One model's column edges, against the known columns of what it reads."""
    root = build_scope(model.ast)
    if root is None:
        return ModelLineage({}, ())
    tracer = _Tracer(relations)
    outputs = scope_outputs(root, relations) or []
    columns = {name: tuple(sorted(tracer.trace(root, name))) for name in outputs}
    rows: set[ColumnRef] = set()
    for scope in root.traverse():
        rows |= tracer.row_columns(scope)
    return ModelLineage(columns, tuple(sorted(rows)))


class _Tracer:
    """Follows a column of a scope down to the tables it reads; memoised per scope and name."""

    def __init__(self, relations: Relations) -> None:
        self.relations = relations
        self.memo: dict[tuple[int, str], set[ColumnRef]] = {}
        self.sources: dict[int, dict[str, list[str] | None]] = {}

    def selected(self, scope: Scope) -> dict[str, list[str] | None]:
        """selected_columns, once per scope: it walks the whole scope, and a scope has many columns."""
        if id(scope) not in self.sources:
            self.sources[id(scope)] = selected_columns(scope, self.relations)
        return self.sources[id(scope)]

    def trace(self, scope: Scope, name: str) -> set[ColumnRef]:
        key = (id(scope), name)
        if key not in self.memo:
            self.memo[key] = set()  # a recursive CTE reads itself: stop there
            self.memo[key] = self._trace(scope, name)
        return self.memo[key]

    def _trace(self, scope: Scope, name: str) -> set[ColumnRef]:
        query = scope.expression
        if isinstance(query, exp.SetOperation):
            return self._trace_set(scope, name)
        if not isinstance(query, exp.Select):
            return set()
        if scope.outer_columns and not any(_is_star(s) for s in query.selects):  # `WITH t(a, b) AS`: by position
            outputs = scope_outputs(scope, self.relations) or []
            if name in outputs and outputs.index(name) < len(query.selects):
                return self.expression_columns(scope, query.selects[outputs.index(name)])
        for select in query.selects:
            if not _is_star(select) and select.alias_or_name.lower() == name:
                return self.expression_columns(scope, select)
        return self._through_star(scope, query, name)

    def _trace_set(self, scope: Scope, name: str) -> set[ColumnRef]:
        """UNION/INTERSECT/EXCEPT: each branch's column at the same position (or of the same name, BY NAME)."""
        outputs = scope_outputs(scope, self.relations) or []
        if name not in outputs:
            return set()
        found: set[ColumnRef] = set()
        by_name = bool(scope.expression.args.get("by_name"))
        for branch in scope.set_operation_scopes:
            names = scope_outputs(branch, self.relations) or []
            picked = name if by_name else names[outputs.index(name)] if outputs.index(name) < len(names) else None
            if picked in names:
                found |= self.trace(branch, picked)
        return found

    def _through_star(self, scope: Scope, query: exp.Select, name: str) -> set[ColumnRef]:
        """A column that `*` or `t.*` (with EXCLUDE/RENAME) brings: the first source that has it."""
        sources = self.selected(scope)
        for select in query.selects:
            if not _is_star(select):
                continue
            star = select if isinstance(select, exp.Star) else select.this
            renamed = {r.alias.lower(): r.this.name.lower() for r in star.args.get("rename") or []}
            excluded = {e.name.lower() for e in star.args.get("except_") or []}
            original = renamed.get(name, name)
            if original in excluded:
                continue
            aliases = [select.table.lower()] if isinstance(select, exp.Column) and select.table else list(sources)
            for alias in aliases:
                if original in (sources.get(alias) or []):
                    return self.source_column(scope, alias, original)
        return set()

    def expression_columns(self, scope: Scope, expression: exp.Expression) -> set[ColumnRef]:
        """Every upstream column an expression of this scope reads, subqueries in it included."""
        found: set[ColumnRef] = set()
        children = {id(child.expression): child for child in scope.subquery_scopes}
        for node in walk_in_scope(expression):
            if isinstance(node, exp.Column) and not isinstance(node.this, exp.Star):
                found |= self.column(scope, node)
            elif id(node) in children:
                child = children[id(node)]
                for name in scope_outputs(child, self.relations) or []:
                    found |= self.trace(child, name)
                found |= self.row_columns(child)
        return found

    def column(self, scope: Scope, column: exp.Column) -> set[ColumnRef]:
        name = column.name.lower()
        if column.table:
            return self.source_column(scope, column.table.lower(), name)
        sources = self.selected(scope)
        owners = [alias for alias, columns in sources.items() if columns and name in columns]
        if owners:  # several: a USING join key, read from each side
            return set().union(*(self.source_column(scope, alias, name) for alias in owners))
        query = scope.expression
        if isinstance(query, exp.Select):  # DuckDB lets a query reuse its own select aliases
            for select in query.selects:
                if select.alias.lower() == name and select is not column.parent:
                    return self.expression_columns(scope, select.this)
        return set()  # an outer query's column (correlated), or one lint already reported

    def source_column(self, scope: Scope, alias: str, name: str) -> set[ColumnRef]:
        source = next((s for a, s in scope.sources.items() if a.lower() == alias), None)
        if isinstance(source, Scope):
            return self.trace(source, name)
        if isinstance(source, exp.Table) and isinstance(source.this, exp.Identifier):
            key = relation_key(source)
            renamed = [a.lower() for a in source.alias_column_names]
            if name in renamed:  # `FROM t AS x(a, b)`: back to the table's own names
                known = self.relations.get(key) or []
                name = known[renamed.index(name)] if renamed.index(name) < len(known) else name
            return {ColumnRef(key, name)}
        return set()  # a table function or UNNEST: nothing upstream to name

    def row_columns(self, scope: Scope) -> set[ColumnRef]:
        """Upstream columns that decide which rows this scope produces: WHERE, JOIN ON/USING, GROUP BY,
        HAVING, QUALIFY."""
        query = scope.expression
        if not isinstance(query, exp.Select):
            return set()
        found: set[ColumnRef] = set()
        clauses = [query.args.get(key) for key in ROW_CLAUSES]
        for join in query.args.get("joins") or []:
            clauses.append(join.args.get("on"))
            for key in join.args.get("using") or []:
                found |= self.column(scope, exp.column(key.name))
        for clause in clauses:
            if clause is not None:
                found |= self.expression_columns(scope, clause)
        return found


def _is_star(select: exp.Expression) -> bool:
    return isinstance(select, exp.Star) or isinstance(select, exp.Column) and isinstance(select.this, exp.Star)


@dataclass(frozen=True)
class Step:
    """One column in an upstream walk and what it is computed from."""

    ref: ColumnRef
    inputs: tuple[ColumnRef, ...]  # empty for a raw column
    rows: tuple[ColumnRef, ...] = ()  # for a model column: what filters, joins or groups the model's rows


@dataclass(frozen=True)
class Impact:
    """What a change to one column reaches downstream."""

    ref: ColumnRef
    columns: tuple[ColumnRef, ...]  # model columns whose values are computed from it, directly or further down
    row_models: tuple[str, ...]  # models whose rows it (or one of those columns) filters, joins or groups
    rows_changed: tuple[str, ...]  # those models and every model downstream of them: any of their columns
    published: tuple[ColumnRef, ...]  # the published columns that may change: the consumers' view of it


@dataclass
class Lineage:
    """Column edges of every model of a project, walked up (where a column comes from) or down (what it
    reaches)."""

    models: dict[str, Model]
    relations: Relations
    edges: dict[str, ModelLineage]
    readers: dict[ColumnRef, set[ColumnRef]] = field(default_factory=dict)
    row_readers: dict[ColumnRef, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, lineage in self.edges.items():
            for column, inputs in lineage.columns.items():
                for ref in inputs:
                    self.readers.setdefault(ref, set()).add(ColumnRef(name, column))
            for ref in lineage.rows:
                self.row_readers.setdefault(ref, set()).add(name)

    def upstream(self, ref: ColumnRef) -> list[Step]:
        """The column, then each column it is computed from, breadth first, each once; raw columns end a path."""
        self.check_known(ref)
        steps, seen, queue = [], {ref}, [ref]
        while queue:
            current = queue.pop(0)
            lineage = self.edges.get(current.relation)
            inputs = lineage.columns.get(current.column, ()) if lineage else ()
            steps.append(Step(current, inputs, lineage.rows if lineage and current == ref else ()))
            for nxt in inputs:
                if nxt not in seen:
                    seen.add(nxt)
                    queue.append(nxt)
        return steps

    def downstream(self, ref: ColumnRef) -> Impact:
        self.check_known(ref)
        columns: set[ColumnRef] = set()
        queue = [ref]
        while queue:
            for reader in self.readers.get(queue.pop(), ()):
                if reader not in columns:
                    columns.add(reader)
                    queue.append(reader)
        row_models = set().union(*(self.row_readers.get(c, set()) for c in (ref, *columns)))
        readers: dict[str, set[str]] = {name: set() for name in self.models}
        for name, read in dependencies(self.models).items():
            for upstream in read:
                readers[upstream].add(name)
        rows_changed, queue_models = set(row_models), list(row_models)
        while queue_models:  # a model whose rows change changes what every reader computes from it
            for reader in readers[queue_models.pop()]:
                if reader not in rows_changed:
                    rows_changed.add(reader)
                    queue_models.append(reader)
        published = {c for c in columns if self.models[c.relation].published}
        published |= {ColumnRef(m, c) for m in rows_changed if self.models[m].published
                      for c in self.relations.get(m) or ()}
        return Impact(ref, tuple(sorted(columns)), tuple(sorted(row_models)), tuple(sorted(rows_changed)),
                      tuple(sorted(published)))

    def columns_of(self, relation: str) -> list[str] | None:
        return self.relations.get(relation)

    def check_known(self, ref: ColumnRef) -> None:
        """A clear error for a relation or column the project does not have, with the closest names."""
        if ref.relation not in self.relations:
            raise EltError(f"unknown model or raw table {ref.relation!r}",
                           hint=_suggest(ref.relation, sorted(self.relations)) or
                           "a model name (see transforms/models/) or a raw table raw_<source>.<table>")
        known = self.relations[ref.relation]
        if known is not None and ref.column not in known:
            raise EltError(f"{ref.relation} has no column {ref.column!r}",
                           hint=_suggest(ref.column, known) or f"its columns: {', '.join(known)}")


def _suggest(word: str, known: list[str]) -> str:
    close = get_close_matches(word, known, n=3, cutoff=0.6)
    return f"did you mean {' or '.join(close)}?" if close else ""


def project_lineage(models: dict[str, Model], relations: Relations) -> Lineage:
    """Lineage of every model (`relations`: raw tables' and models' columns, as the plan resolved them)."""
    return Lineage(models, relations, {name: model_lineage(model, relations) for name, model in models.items()})


def parse_ref(text: str, lineage: Lineage, published_schema: str) -> ColumnRef:
    """`MODEL.COLUMN`, `raw_<source>.TABLE.COLUMN` or `<published schema>.MODEL.COLUMN` as a column reference."""
    relation, _, column = text.strip().lower().rpartition(".")
    if not relation or not column:
        raise EltError(f"{text!r} names no column", hint="write MODEL.COLUMN (or raw_<source>.TABLE.COLUMN)")
    schema, _, name = relation.partition(".")
    if schema == published_schema and name in lineage.models:
        relation = name
    ref = ColumnRef(relation, column)
    lineage.check_known(ref)
    return ref
