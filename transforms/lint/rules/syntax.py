"""L001: a model file that does not parse (bad SQL, bad config header, not one SELECT)."""
from __future__ import annotations

from typing import Iterator

from elt.errors import Location

CODE = "L001"


def check(context) -> Iterator:
    from transforms.lint import Violation

    for error in context.parse_errors:
        message = error.message + (f" — {error.hint}" if error.hint else "")
        yield Violation(CODE, message, error.where or Location("?"))
