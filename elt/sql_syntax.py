"""sqlglot's syntax errors in a person's terms, for models and contract SQL alike.

sqlglot reports the column where the offending token ends and names its own classes
(`<class 'sqlglot.expressions.core.And'>`); an editor's caret belongs under the token's first character,
and the message should read as words. A string left open is reported where sqlglot gave up (the end of the
text), not at its opening quote.
"""
from __future__ import annotations

import re

CLASS_NAME = re.compile(r"<class 'sqlglot\.(?:\w+\.)*(\w+)'>")


def parse_error(first: dict) -> tuple[int, int, str]:
    """(line, column of the offending token's first character, description) of sqlglot's first error."""
    line, col = first.get("line") or 1, first.get("col") or 1
    token = first.get("highlight") or ""
    if token and "\n" not in token and col >= len(token):
        col -= len(token) - 1
    return line, col, CLASS_NAME.sub(r"\1", str(first.get("description") or "invalid SQL"))


def unclosed_quote(text: str, offset: int) -> int:
    """The offset of the quote that opens the literal or name sqlglot could not close before `offset`."""
    quotes = [i for i, char in enumerate(text[:offset]) if char in "'\""]
    return quotes[-1] if quotes else min(offset, max(len(text) - 1, 0))


def line_and_column(text: str, offset: int) -> tuple[int, int]:
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1
