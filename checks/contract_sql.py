"""The SQL inside contracts: `${...}` variables and the syntax of `query`, `expression` and `filter`.

Soda logs an undeclared variable and runs the text unresolved, and it learns of a syntax error only when the
warehouse refuses the query at verification — after extraction and building, as tracebacks. Both are checked
here at load, so `elt lint` finds them. The syntax check uses sqlglot, the parser models are read with (this
package may not import transforms/, but sqlglot is no orchestrator or engine): SQL it cannot parse would be
a lint error in a model too.

`${ref.MODEL}` is the toolkit's own namespace, not Soda's: another model of the project, replaced before Soda
reads the contract by the version that is published together with the one verified (dbt's `relationships`).
"""
from __future__ import annotations

import difflib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from elt.sql_syntax import parse_error

RELATION = "RELATION"  # the candidate relation (`schema.table`) a contract is verified against
# namespace -> the names Soda resolves in it: `var` what verify.py passes, `soda` what Soda itself provides.
VARIABLES = {"var": (RELATION,), "soda": ("NOW", "DATA_TIMESTAMP")}
KNOWN = tuple(f"${{{ns}.{name}}}" for ns, names in VARIABLES.items() for name in names)
REF = "ref"  # ${ref.MODEL}: the version of MODEL published together with the candidate
CANDIDATE, REF_PREFIX = "_elt_candidate", "_elt_ref_"  # names lint reads the variables as (for_lint)
KNOWN_TEXT = ", ".join((*KNOWN, "${ref.MODEL}"))
# Soda's own pattern (soda_core.common.yaml): anything else after `${` is left in the text as it is.
REFERENCE = re.compile(r"\$\{ *([a-z]+)\.([a-zA-Z_][a-zA-Z_0-9]*) *\}")
SELECT_PREFIX = "SELECT "  # an expression is parsed as a select list: columns of the error line shift by this


def unknown_variable(text: str, models: dict | tuple = (), model: str = "") -> tuple[str, str] | None:
    """(what is wrong, what to do) for the first `${...}` in `text` that would not resolve. `models`: the
    project's models, which `${ref.NAME}` may name; `model`: the contract's own (its candidate is RELATION)."""
    for start in (m.start() for m in re.finditer(r"\$\{", text)):
        found = REFERENCE.match(text, start)
        if found is None:
            written = text[start:text.find("}", start) + 1 or len(text)]
            return f"{written!r} is not a variable reference", f"write ${{var.NAME}}; known: {KNOWN_TEXT}"
        namespace, name = found.groups()
        if namespace == REF:
            if name.lower() == model:
                return f"{found[0]} is the contract's own model", "write ${var.RELATION}, the version being verified"
            if name.lower() not in models:
                close = difflib.get_close_matches(name.lower(), list(models), n=1)
                return f"{found[0]}: no model named {name}", f"did you mean ${{ref.{close[0]}}}?" if close else \
                    "name a model of the project (a .sql file under the models folder)"
            continue
        if name not in VARIABLES.get(namespace, ()):
            close = difflib.get_close_matches(f"${{{namespace}.{name.upper()}}}", KNOWN, n=1)
            guess = f"did you mean {close[0]}? " if close else ""
            return f"unknown variable {found[0]}", f"{guess}known variables: {KNOWN_TEXT}"
    return None


def refs(text: str) -> set[str]:
    """The models `text` names as ${ref.NAME}."""
    return {m[2].lower() for m in REFERENCE.finditer(text) if m[1] == REF}


def resolve_refs(text: str, relations: dict[str, str], candidate: str | None = None) -> str:
    """`text` with each ${ref.NAME} replaced by the relation of NAME's version in `relations`, and, given a
    `candidate`, ${var.RELATION} by it (the SQL as it runs); Soda's own variables are left to Soda."""
    def relation(m: re.Match) -> str:
        if m[1] == REF:
            return relations[m[2].lower()]
        return candidate if candidate is not None and m.groups() == ("var", RELATION) else m[0]

    return REFERENCE.sub(relation, text)


def for_lint(text: str, kind: str, model: str) -> tuple[str, dict[str, str]]:
    """`text` as a query lint can check like a model's: (SQL, relation name -> the model it stands for).
    The candidate and each ${ref.NAME} become table names of their own (a model written by its plain name
    would not resolve at verification); an expression or filter is read as a select list over the candidate;
    Soda's variables, values at run time, become NULL."""
    named = {CANDIDATE: model}

    def name(m: re.Match) -> str:
        if m[1] == REF:
            named[f"{REF_PREFIX}{m[2].lower()}"] = m[2].lower()
            return f"{REF_PREFIX}{m[2].lower()}"
        return CANDIDATE if m.groups() == ("var", RELATION) else "NULL"

    sql = REFERENCE.sub(name, text)
    return (sql if kind == "query" else f"{SELECT_PREFIX}{sql} FROM {CANDIDATE}"), named


def as_written(message: str, model: str) -> str:
    """A lint message about `for_lint`'s SQL in the contract's own words."""
    message = re.sub(rf"\b{REF_PREFIX}(\w+)", r"${ref.\1}", message)
    return re.sub(rf"\b{CANDIDATE}\b", f"${{var.{RELATION}}} ({model})", message)


def reads_candidate(query: str) -> bool:
    """A `query:` runs as written: without ${var.RELATION} it checks some other relation than the candidate."""
    return any(m.groups() == ("var", RELATION) for m in REFERENCE.finditer(query))


def syntax_error(text: str, kind: str, dialect: str) -> str | None:
    """What is wrong with `text` as SQL, or None. `kind`: "query" (one SELECT) or "expression" (a condition
    or an aggregate). Variables are replaced by names of the same length, so positions stay those of the text.
    """
    sql = REFERENCE.sub(lambda m: "_" * len(m[0]), text)
    prefix = "" if kind == "query" else SELECT_PREFIX
    try:
        statements = [s for s in sqlglot.parse(prefix + sql, read=dialect) if s is not None]
    except TokenError:
        return "SQL syntax error: a string or quoted name that is never closed"
    except ParseError as err:
        line, col, description = parse_error(err.errors[0] if err.errors else {"description": str(err)})
        col -= len(prefix) if line == 1 else 0
        return f"SQL syntax error at line {line}, column {max(col, 1)}: {description}"
    if kind == "query" and (len(statements) != 1 or not isinstance(statements[0], exp.Query)):
        return "a query must be exactly one SELECT"
    if kind == "expression" and len(statements) != 1:
        return "an expression must be one SQL expression, not statements"
    return None
