"""What someone coming from dbt writes in a model, and what to write here instead.

Models are plain SQL: left-over Jinja would otherwise surface as a sqlglot error about tokens, and a
dbt-style header line (`-- materialized='table'`) would be a comment that silently changes nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

from elt.errors import Location, ModelError

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}|\{\{|\{%|\{#", re.DOTALL)
_ARGS = r"\(\s*'([^']*)'\s*(?:,\s*'([^']*)'\s*)?\)"
REF = re.compile(r"\{\{\s*ref" + _ARGS + r"\s*\}\}")
SOURCE = re.compile(r"\{\{\s*source" + _ARGS + r"\s*\}\}")
CONFIG = re.compile(r"\{\{\s*config\s*\((.*?)\)\s*\}\}", re.DOTALL)
DBT_HEADER = re.compile(r"^--\s*([A-Za-z_]+)\s*=\s*['\"]?(.*?)['\"]?\s*$")


def check_no_templating(path: Path, text: str) -> None:
    """Raise at the first Jinja tag, saying what plain SQL replaces it."""
    found = JINJA.search(text)
    if not found:
        return
    tag = found.group(0)
    line = text.count("\n", 0, found.start()) + 1
    where = Location(path, line, found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1)
    if ref := REF.fullmatch(tag):
        name = ref.group(2) or ref.group(1)
        hint = f"write `{name}` instead of `{tag}`: models are read by name, and dependencies follow from the SQL"
    elif src := SOURCE.fullmatch(tag):
        hint = (f"write `raw_{src.group(1)}.{src.group(2) or '<table>'}` instead of `{tag}`: "
                f"source `{src.group(1)}` loads into the schema raw_{src.group(1)}")
    elif cfg := CONFIG.fullmatch(tag):
        pairs = re.findall(r"(\w+)\s*=\s*['\"]?([\w, ]+)['\"]?", cfg.group(1))
        lines = "; ".join(f"`-- {k}: {v}`" for k, v in pairs) or "`-- materialized: table`"
        hint = f"write the config as header comments at the top of the file: {lines}"
    else:
        hint = "models are plain SQL, no templating: write the table names and values out"
    raise ModelError(f"Jinja in a model: {_short(tag)}", where=where, hint=hint)


def dbt_header_line(path: Path, number: int, line: str, keys: tuple[str, ...]) -> None:
    """`-- materialized='table'` (dbt's config syntax in a comment) would silently be a free comment."""
    match = DBT_HEADER.match(line.strip())
    if match and match.group(1).lower() in keys:
        key, value = match.group(1).lower(), match.group(2)
        raise ModelError(f"`{line.strip()}` is not a config line here", where=Location(path, number, 1),
                         hint=f"write `-- {key}: {value}`")


def _short(tag: str) -> str:
    tag = " ".join(tag.split())
    return tag if len(tag) <= 60 else tag[:57] + "..."
