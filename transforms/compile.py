"""Transpile models from the authoring dialect to a target dialect, refusing what would change meaning.

sqlglot passes some constructs through verbatim even where the target has no such thing (unknown
functions, UNION BY NAME, SELECT * EXCLUDE on Postgres). Those are compile errors naming the model and
the construct, never silently different SQL.
"""
from __future__ import annotations

from typing import Callable

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from elt.errors import CompileError
from transforms.models import Model

DIALECTS = ("duckdb", "postgres", "snowflake", "bigquery")

# (construct, dialects that lack it, predicate over a node)
Rule = tuple[str, tuple[str, ...], Callable[[exp.Expression], bool]]
UNPORTABLE: tuple[Rule, ...] = (
    ("UNION BY NAME", ("postgres", "bigquery"),
     lambda n: isinstance(n, exp.SetOperation) and bool(n.args.get("by_name"))),
    ("SELECT * EXCLUDE/REPLACE", ("postgres",),
     lambda n: isinstance(n, exp.Star) and any(n.args.get(k) for k in ("except_", "replace", "rename"))),
    ("GROUP BY ALL", ("postgres",),
     lambda n: isinstance(n, exp.Group) and bool(n.args.get("all"))),
)


def check_portable(model: Model, dialect: str, authoring: str = "duckdb") -> None:
    """Raise CompileError for the first construct of the model that cannot be carried to `dialect`."""
    if dialect == authoring:
        return
    for node in model.ast.walk():
        if isinstance(node, exp.Anonymous):
            raise CompileError(
                f"model {model.name}: function {node.name}() is not known to the transpiler, so it cannot "
                f"be carried to {dialect}", where=model.locate_word(node.name),
                hint="use a standard function, or keep this model on the authoring dialect")
        for construct, lacking, matches in UNPORTABLE:
            if dialect in lacking and matches(node):
                raise CompileError(f"model {model.name}: {construct} has no {dialect} equivalent",
                                   where=model.location(node), hint="rewrite it with portable SQL")


def with_relations(model: Model, relations: dict[str, str]) -> exp.Query:
    """The model's AST with each model reference pointed at a concrete relation (`schema.table`).

    The original name stays as the alias, so `stg_orders.order_id` keeps resolving.
    """
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and not node.db and node.name.lower() in relations:
            schema, table = relations[node.name.lower()].split(".")
            alias = node.alias or node.name
            return exp.table_(table, db=schema, alias=exp.to_identifier(alias), quoted=False)
        return node

    return model.ast.transform(swap)


def compile_model(model: Model, dialect: str, relations: dict[str, str] | None = None,
                  authoring: str = "duckdb", pretty: bool = False) -> str:
    """SQL for the target dialect; raises CompileError where meaning could not be kept."""
    if dialect not in DIALECTS:
        raise CompileError(f"unknown dialect {dialect!r}", hint=f"use one of: {', '.join(DIALECTS)}")
    check_portable(model, dialect, authoring)
    tree = with_relations(model, relations) if relations else model.ast
    try:
        return tree.sql(dialect=dialect, unsupported_level=ErrorLevel.RAISE, pretty=pretty, comments=False)
    except UnsupportedError as err:
        raise CompileError(f"model {model.name}: {err} (in {dialect})", where=model.location(),
                           hint="rewrite the construct with portable SQL") from None
