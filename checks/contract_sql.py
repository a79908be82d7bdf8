"""The SQL inside contracts: `${...}` variables and the syntax of `query`, `expression` and `filter`.

Soda logs an undeclared variable and runs the text unresolved, and it learns of a syntax error only when the
warehouse refuses the query at verification — after extraction and building, as tracebacks. Both are checked
here at load, so `elt lint` finds them. The syntax check uses sqlglot, the parser models are read with (this
package may not import transforms/, but sqlglot is no orchestrator or engine): SQL it cannot parse would be
a lint error in a model too.
"""
from __future__ import annotations

import difflib
import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

RELATION = "RELATION"  # the candidate relation (`schema.table`) a contract is verified against
# namespace -> the names Soda resolves in it: `var` what verify.py passes, `soda` what Soda itself provides.
VARIABLES = {"var": (RELATION,), "soda": ("NOW", "DATA_TIMESTAMP")}
KNOWN = tuple(f"${{{ns}.{name}}}" for ns, names in VARIABLES.items() for name in names)
# Soda's own pattern (soda_core.common.yaml): anything else after `${` is left in the text as it is.
REFERENCE = re.compile(r"\$\{ *([a-z]+)\.([a-zA-Z_][a-zA-Z_0-9]*) *\}")
CLASS_NAME = re.compile(r"<class 'sqlglot\.(?:\w+\.)*(\w+)'>")
SELECT_PREFIX = "SELECT "  # an expression is parsed as a select list: columns of the error line shift by this


def unknown_variable(text: str) -> tuple[str, str] | None:
    """(what is wrong, what to do) for the first `${...}` in `text` that Soda would not resolve."""
    for start in (m.start() for m in re.finditer(r"\$\{", text)):
        found = REFERENCE.match(text, start)
        if found is None:
            written = text[start:text.find("}", start) + 1 or len(text)]
            return f"{written!r} is not a variable reference", f"write ${{var.NAME}}; known: {', '.join(KNOWN)}"
        namespace, name = found.groups()
        if name not in VARIABLES.get(namespace, ()):
            close = difflib.get_close_matches(f"${{{namespace}.{name.upper()}}}", KNOWN, n=1)
            guess = f"did you mean {close[0]}? " if close else ""
            return f"unknown variable {found[0]}", f"{guess}known variables: {', '.join(KNOWN)}"
    return None


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
        return "SQL syntax error: cannot tokenize (an unterminated string or quoted name?)"
    except ParseError as err:
        first = err.errors[0] if err.errors else {}
        line, col = first.get("line") or 1, first.get("col") or 1
        col -= len(prefix) if line == 1 else 0
        description = CLASS_NAME.sub(r"\1", first.get("description", str(err)))
        return f"SQL syntax error at line {line}, column {max(col, 1)}: {description}"
    if kind == "query" and (len(statements) != 1 or not isinstance(statements[0], exp.Query)):
        return "a query must be exactly one SELECT"
    if kind == "expression" and len(statements) != 1:
        return "an expression must be one SQL expression, not statements"
    return None
