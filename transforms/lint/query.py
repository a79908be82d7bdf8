"""Lint one query that is not a model file (a contract check's SQL) with the rules models get for tables and
columns, so a typo in a check is found by `elt lint`, not by the warehouse after a whole run."""
from __future__ import annotations

from pathlib import Path

from elt.errors import ModelError
from transforms.lint import LintContext
from transforms.lint.rules import ambiguous_column, unknown_column
from transforms.models import parse_model
from transforms.schema import Relations


def query_problems(sql: str, named: dict[str, str], relations: Relations, dialect: str = "duckdb") -> list[str]:
    """What is wrong with the tables and columns of `sql`, in lint's words (first the tables).

    `named`: table names the query may use -> the model each stands for; `relations`: raw tables and every
    model's columns. Any other table must be a raw one (`schema.table`).
    """
    try:
        query = parse_model(Path("query.sql"), Path("."), dialect, text=sql)
    except ModelError as err:
        return [err.message]
    known = {name: relations.get(model) for name, model in named.items()}
    known |= {key: columns for key, columns in relations.items() if "." in key}
    unknown = [f"{ref.key} is a model, which this query cannot read by its name" if ref.key in relations
               else f"unknown table {ref.key}: not a raw table or a model of this project"
               for ref in query.refs if ref.key not in known]
    if unknown:
        return unknown
    context = LintContext(models=[query], parse_errors=[], raw={}, relations=known)
    return [v.message for rule in (unknown_column, ambiguous_column) for v in rule.check(context)]
