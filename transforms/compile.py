"""Transpile models from the authoring dialect to a target dialect, refusing what would change meaning.

sqlglot passes some constructs through verbatim even where the target has no such thing (unknown
functions, UNION BY NAME, SELECT * EXCLUDE on Postgres) and translates others wrongly. Those are compile
errors naming the model and the construct, never silently different SQL. What is refused, what is
trusted and what is rewritten lives in transforms/portability.py.
"""
from __future__ import annotations

import re
from functools import cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, UnsupportedError
from sqlglot.generator import Generator

from elt.config import TARGET_DIALECTS
from elt.errors import CompileError
from transforms.models import Model
from transforms.portability import FUNCTIONS, UNPORTABLE, Rule, rewrite

DIALECTS = tuple(dict.fromkeys(TARGET_DIALECTS.values()))  # every dialect a target can have


@cache
def _rules(dialect: str) -> tuple[tuple[type[exp.Expression], ...], tuple[Rule, ...]]:
    """The rules for a dialect, and every node type one of them (or the unknown-function check) is about."""
    rules = tuple(rule for rule in UNPORTABLE if dialect in rule.lacking)
    return (exp.Anonymous, *{t for rule in rules for t in rule.types}), rules


def check_portable(model: Model, dialect: str, authoring: str = "duckdb") -> None:
    """Raise CompileError for the first construct of the model that cannot be carried to `dialect`."""
    if dialect == authoring:
        return
    watched, rules = _rules(dialect)
    for node in model.ast.walk():
        if not isinstance(node, watched):
            continue
        if isinstance(node, exp.Anonymous):
            raise CompileError(
                f"model {model.name}: function {node.name}() is not known to the transpiler, so it cannot "
                f"be carried to {dialect}", where=model.locate_word(node.name),
                hint="use a standard function, or keep this model on the authoring dialect")
        for rule in rules:
            if isinstance(node, rule.types) and (rule.matches is None or rule.matches(node)):
                because = f" ({rule.why})" if rule.why else ""
                raise CompileError(f"model {model.name}: {rule.construct} has no {dialect} equivalent{because}",
                                   where=model.location(node), hint="rewrite it with portable SQL")


@cache
def _recording_generator(dialect: str) -> type[Generator]:
    """The dialect's generator, noting each function name it prints and the node it was printing."""
    class Recording(Dialect.get_or_raise(dialect).generator_class):
        def sql(self, expression: str | exp.Expression | None, key: str | None = None, comment: bool = True) -> str:
            if not isinstance(expression, exp.Func):
                return super().sql(expression, key, comment)
            self.calls.append(expression)
            try:
                return super().sql(expression, key, comment)
            finally:
                self.calls.pop()

        def func(self, name: str, *args, **kwargs) -> str:
            self.printed.append((name, self.calls[-1] if self.calls else None))
            return super().func(name, *args, **kwargs)

    return Recording


def _check_printed(model: Model, dialect: str, authoring: str, printed: list[tuple[str, exp.Func | None]]) -> None:
    """A function name in the output is portable only if the target has a function of that name."""
    known = FUNCTIONS.get(dialect)
    if known is None:
        return
    for emitted, node in printed:
        if emitted.upper() in known:
            continue
        spelled = re.match(r"\w+", node.sql(dialect=authoring)) if node is not None else None
        name = spelled.group(0).lower() if spelled else emitted.lower()
        where = model.location(node) if node is not None and node.find(exp.Identifier) else model.locate_word(name)
        raise CompileError(
            f"model {model.name}: function {name}() has no {dialect} equivalent (the transpiler would "
            f"emit {emitted.upper()}(), which {dialect} lacks)", where=where,
            hint="use a standard function, or keep this model on the authoring dialect")


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
    tree = with_relations(model, relations) if relations else model.ast.copy()  # a copy: rewritten in place
    if dialect != authoring:
        rewrite(tree, dialect)
    generator = _recording_generator(dialect)(dialect=dialect, unsupported_level=ErrorLevel.RAISE, pretty=pretty,
                                              comments=False)
    generator.calls, generator.printed = [], []
    try:
        sql = generator.generate(tree, copy=False)
    except UnsupportedError as err:
        raise CompileError(f"model {model.name}: {err} (in {dialect})", where=model.location(),
                           hint="rewrite the construct with portable SQL") from None
    if dialect != authoring:
        _check_printed(model, dialect, authoring, generator.printed)
    return sql
