"""Discover model files and parse each into a Model: its SQL AST, its config header and what it reads.

A model is one SELECT in `transforms/models/<layer>/<name>.sql`. Its config sits in the leading comment
block (`-- materialized: table`), so any SQL editor still opens the file as valid SQL.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from elt.errors import Location, ModelError
from elt.sql_syntax import line_and_column, parse_error, unclosed_quote
from elt.textfile import read_utf8
from elt.toml_table import IDENTIFIER
from transforms import dbt_habits

CONFIG_LINE = re.compile(r"^--\s*([A-Za-z_]+)\s*:\s*(.*?)\s*$")
CONFIG_KEYS = ("materialized", "description", "tags", "published", "unique_key", "delta_from", "schema_change")
SCHEMA_CHANGES = ("block", "allow")  # a published column removed or retyped: the gate fails, or lets it through
MATERIALIZATIONS = ("view", "table", "incremental")
INCREMENTAL_KEYS = ("unique_key", "delta_from")  # meaningful only with `materialized: incremental`


@dataclass(frozen=True)
class TableRef:
    """A table a model reads: `schema` is empty for a reference to another model."""

    schema: str
    name: str
    location: Location

    @property
    def key(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    layer: str
    text: str
    ast: exp.Query
    materialized: str = "view"
    description: str = ""
    tags: tuple[str, ...] = ()
    published: bool = True  # False: an internal building block, never exposed under the published schema
    schema_change: str = "block"  # "allow": a new version may remove or retype published columns
    unique_key: tuple[str, ...] = ()  # incremental: the delta replaces rows with these keys (merge); none: append
    delta_from: str = ""  # incremental: the relation whose new rows drive the delta; default the first in FROM
    refs: tuple[TableRef, ...] = field(default=())

    def location(self, node: exp.Expression | None = None) -> Location:
        """File position of a node (its first token), or of the model's first line."""
        start = _start_offset(node) if node is not None else None
        if start is None:
            return Location(self.path, 1, 1)
        line = self.text.count("\n", 0, start) + 1
        col = start - (self.text.rfind("\n", 0, start) + 1) + 1
        return Location(self.path, line, col)

    def locate_word(self, word: str) -> Location:
        """Location of the first occurrence of `word` in the SQL (for nodes sqlglot keeps no position for)."""
        found = re.search(rf"\b{re.escape(word)}\b", self.text, re.IGNORECASE)
        if not found:
            return self.location()
        line = self.text.count("\n", 0, found.start()) + 1
        return Location(self.path, line, found.start() - (self.text.rfind("\n", 0, found.start()) + 1) + 1)

    @property
    def model_refs(self) -> tuple[str, ...]:
        return tuple(sorted({r.name for r in self.refs if not r.schema}))


def _start_offset(node: exp.Expression) -> int | None:
    """sqlglot keeps token offsets on identifiers; a node starts at its earliest one."""
    starts = [i.meta["start"] for i in node.find_all(exp.Identifier) if "start" in i.meta]
    return min(starts) if starts else None


def discover(models_dir: Path) -> list[Path]:
    """Every `.sql` file under the models directory, in a stable order."""
    return sorted(models_dir.rglob("*.sql"))


def parse_all(models_dir: Path, dialect: str = "duckdb") -> dict[str, Model]:
    """Every model by name; the first file that does not parse raises its ModelError (lint reports them all)."""
    models = (parse_model(path, models_dir, dialect) for path in discover(models_dir))
    return {model.name: model for model in models}


def parse_model(path: Path, models_dir: Path, dialect: str = "duckdb", text: str | None = None) -> Model:
    """Parse one model file; raises ModelError at the offending line for bad config or SQL."""
    text = read_utf8(path, ModelError) if text is None else text
    dbt_habits.check_no_templating(path, text)
    config = _read_config(path, text)
    try:
        statements = [s for s in sqlglot.parse(text, read=dialect) if s is not None]
    except TokenError as err:  # e.g. an unterminated string; sqlglot knows only the offset where it gave up
        offset = unclosed_quote(text, min(getattr(err, "end", 0) or len(text), len(text)))
        raise ModelError("syntax error: a string or quoted name that is never closed",
                         where=Location(path, *line_and_column(text, offset)),
                         hint="close the quote (a quote inside a string is written twice: 'it''s')") from None
    except ParseError as err:
        line, col, description = parse_error(err.errors[0] if err.errors else {"description": str(err)})
        raise ModelError(f"syntax error: {description}", where=Location(path, line, col),
                         hint="fix the SQL; the model is parsed with the authoring dialect " + dialect) from None
    if not statements:
        raise ModelError("the model has no SQL", where=Location(path, 1, 1),
                         hint="write one SELECT query after the config header, or delete the file")
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError("a model must be exactly one SELECT query", where=Location(path, 1, 1),
                         hint="move other statements out of the model file")
    if not IDENTIFIER.match(path.stem):
        raise ModelError(f"model name {path.stem!r} is not a valid identifier", where=Location(path),
                         hint="rename the file: letters, digits and underscores, not starting with a digit")
    relative = path.relative_to(models_dir) if path.is_relative_to(models_dir) else Path(path.name)
    model = Model(
        name=path.stem.lower(),
        path=path,
        layer=relative.parts[0] if len(relative.parts) > 1 else "",
        text=text,
        ast=statements[0],
        **config,
    )
    return Model(**{**model.__dict__, "refs": tuple(_table_refs(model))})


def _read_config(path: Path, text: str) -> dict:
    config: dict = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = CONFIG_LINE.match(stripped)
        if not match:
            dbt_habits.dbt_header_line(path, number, line, CONFIG_KEYS)
            continue  # a free comment
        key, value = match.groups()
        where = Location(path, number, line.index(key) + 1)
        if key not in CONFIG_KEYS:
            # "-- Note: ..." is prose; "-- materialised: table" is a typo that would silently change nothing.
            close = difflib.get_close_matches(key.lower(), CONFIG_KEYS, n=1, cutoff=0.75)
            if close:
                raise ModelError(f"unknown config key {key!r}", where=where, hint=f"did you mean {close[0]}?")
            continue
        if key == "materialized":
            if value not in MATERIALIZATIONS:
                raise ModelError(f"materialized must be one of {', '.join(MATERIALIZATIONS)}, not {value!r}",
                                 where=where, hint="change the header line")
            config[key] = value
        elif key == "schema_change":
            if value not in SCHEMA_CHANGES:
                raise ModelError(f"schema_change must be block or allow, not {value!r}", where=where,
                                 hint="`-- schema_change: allow` lets a new version remove or retype columns")
            config[key] = value
        elif key == "published":
            if value not in ("true", "false"):
                raise ModelError(f"published must be true or false, not {value!r}", where=where,
                                 hint="change the header line")
            config[key] = value == "true"
        elif key == "tags":
            config[key] = tuple(t.strip() for t in value.split(",") if t.strip())
        elif key == "unique_key":
            columns = tuple(c.strip().lower() for c in value.split(",") if c.strip())
            bad = [c for c in columns if not IDENTIFIER.match(c)]
            if not columns or bad:
                raise ModelError(f"unique_key must name output columns, comma-separated, not {value!r}",
                                 where=where, hint="for example `-- unique_key: order_id`")
            config[key] = columns
        elif key == "delta_from":
            if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)?", value):
                raise ModelError(f"delta_from must name a model or a raw table (schema.table), not {value!r}",
                                 where=where, hint="for example `-- delta_from: stg_orders`")
            config[key] = value.lower()
        else:
            config[key] = value
    misplaced = [k for k in INCREMENTAL_KEYS if k in config]
    if misplaced and config.get("materialized") != "incremental":
        raise ModelError(f"{misplaced[0]} applies only to incremental models", where=Location(path, 1, 1),
                         hint="add `-- materialized: incremental`, or remove the line")
    return config


def _table_refs(model: Model) -> list[TableRef]:
    """Tables the query reads, excluding its own CTEs and table functions."""
    ctes = {cte.alias_or_name.lower() for cte in model.ast.find_all(exp.CTE)}
    refs = []
    for table in model.ast.find_all(exp.Table):
        if not isinstance(table.this, exp.Identifier):
            continue  # a table function such as range(10)
        name, schema = table.name, table.db
        if not schema and name.lower() in ctes:
            continue
        refs.append(TableRef(schema=schema.lower(), name=name.lower(), location=model.location(table)))
    return refs
