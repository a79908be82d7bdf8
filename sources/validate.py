"""Check rows against a resource's declared columns: good rows are coerced to the declared types, bad ones
come back with the reason (they go to dead letters, not into the raw table and not into thin air).

Two shapes, one set of rules: JSON rows (dicts) one by one, and Arrow tables column by column, where a
clean column is cast in one vectorised step and only a column that fails is checked value by value.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from elt.errors import SchemaFrozenError
from elt.source_config import Resource

Rejected = tuple[Any, str]  # (the row as it arrived, why it was rejected)
Positioned = tuple[int, Any, str]  # (index of the row in its table, the row as it arrived, why)


def _bigint(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"expected an integer, got {type(value).__name__} {value!r}")
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            raise ValueError(f"expected an integer, got {value!r}") from None
    return value


def _double(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"expected a number, got {type(value).__name__} {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {value!r}") from None


def _text(value: Any) -> str:
    if isinstance(value, (dict, list)):
        raise ValueError(f"expected text, got {type(value).__name__}")
    return value if isinstance(value, str) else str(value)


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "t", "f", "1", "0"):
        return value.strip().lower() in ("true", "t", "1")
    raise ValueError(f"expected true or false, got {value!r}")


def _timestamp(value: Any) -> datetime:
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected an ISO timestamp, got {value!r}") from None
    else:
        raise ValueError(f"expected an ISO timestamp, got {type(value).__name__} {value!r}")
    return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _date(value: Any) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"expected an ISO date, got {value!r}") from None


COERCE: dict[str, Callable[[Any], Any]] = {
    "bigint": _bigint, "double": _double, "text": _text, "boolean": _boolean,
    "timestamp": _timestamp, "date": _date, "json": lambda value: value,
}
ARROW_TYPES = {"bigint": pa.int64(), "double": pa.float64(), "text": pa.string(), "boolean": pa.bool_(),
               "timestamp": pa.timestamp("us", tz="UTC"), "date": pa.date32()}
DLT_TYPES = {"bigint": "bigint", "double": "double", "text": "text", "boolean": "bool",
             "timestamp": "timestamp", "date": "date", "json": "json"}


def check_row(row: Any, columns: dict[str, str], required: tuple[str, ...]) -> tuple[dict | None, str | None]:
    """(coerced row, None) for a good row, (None, reason) for a bad one."""
    if not isinstance(row, dict):
        return None, f"expected a JSON object, got {type(row).__name__}"
    for column in required:
        if row.get(column) is None:
            return None, f"missing required key {column!r}"
    coerced = dict(row)
    for column, kind in columns.items():
        if row.get(column) is not None:
            try:
                coerced[column] = COERCE[kind](row[column])
            except ValueError as err:
                return None, f"{column}: {err}"
    return coerced, None


def check_rows(rows: list, columns: dict[str, str], required: tuple[str, ...]) -> tuple[list[dict], list[Rejected]]:
    good, bad = [], []
    for row in rows:
        coerced, reason = check_row(row, columns, required)
        if reason is None:
            good.append(coerced)
        else:
            bad.append((row, reason))
    return good, bad


def check_table(table: pa.Table, columns: dict[str, str],
                required: tuple[str, ...]) -> tuple[pa.Table, list[Positioned]]:
    """Cast declared columns of an Arrow table; rows with values that do not fit are split off with their
    index (files turn it into a line number) and reasons."""
    reasons: list[str | None] = [None] * table.num_rows
    for column in required:
        if column not in table.column_names:
            return table.slice(0, 0), [(index, row, f"missing required key {column!r}")
                                       for index, row in enumerate(table.to_pylist())]
        for index in pc.indices_nonzero(pc.is_null(table[column])).to_pylist():
            reasons[index] = reasons[index] or f"missing required key {column!r}"
    cast: dict[str, pa.Array] = {}
    for column, kind in columns.items():
        if column not in table.column_names or kind not in ARROW_TYPES:
            continue
        target = ARROW_TYPES[kind]
        try:
            cast[column] = pc.cast(table[column], target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            cast[column] = _cast_each(table[column].to_pylist(), kind, column, reasons)
    bad_rows = [index for index, reason in enumerate(reasons) if reason]
    rejected = []
    if bad_rows:  # keep the rows as they arrived, before their bad values became nulls
        rejected = [(i, row, reasons[i]) for row, i in zip(table.take(bad_rows).to_pylist(), bad_rows, strict=True)]
    for column, values in cast.items():
        table = table.set_column(table.column_names.index(column), column, values)
    if rejected:
        table = table.filter(pa.array([reason is None for reason in reasons]))
    return table, rejected


def _cast_each(values: list, kind: str, column: str, reasons: list[str | None]) -> pa.Array:
    """The slow path for a column that failed the vectorised cast: find each value that does not fit."""
    coerced = []
    for index, value in enumerate(values):
        try:
            coerced.append(None if value is None else COERCE[kind](value))
        except ValueError as err:
            coerced.append(None)
            reasons[index] = reasons[index] or f"{column}: {err}"
    return pa.array(coerced, type=ARROW_TYPES[kind])


class Checker:
    """The checks of one declared resource; with `schema = "freeze"`, an undeclared column fails the
    extraction (before anything is committed) instead of reaching the raw table."""

    def __init__(self, source: str, spec: Resource, extra_columns: tuple[str, ...] = ()) -> None:
        self.source, self.spec = source, spec
        self.allowed = set(spec.columns) | set(extra_columns)

    def rows(self, rows: list) -> tuple[list[dict], list[Rejected]]:
        if self.spec.schema == "freeze":
            for row in rows:
                if isinstance(row, dict):
                    self._refuse_new(row, row.keys())
        return check_rows(rows, self.spec.columns, self.spec.required)

    def table(self, table: pa.Table) -> tuple[pa.Table, list[Positioned]]:
        if self.spec.schema == "freeze":
            self._refuse_new(None, table.column_names, table)
        if not self.spec.columns:
            return table, []
        return check_table(table, self.spec.columns, self.spec.required)

    def _refuse_new(self, row: dict | None, columns: Any, table: pa.Table | None = None) -> None:
        new = [column for column in columns if column not in self.allowed]
        if new:
            found = (f"{type(row[new[0]]).__name__} value {row[new[0]]!r}" if row is not None
                     else f"type {table.schema.field(new[0]).type}")
            raise SchemaFrozenError(
                f"source {self.source}: the schema of {self.spec.name} is frozen, but the data has a new "
                f"column {new[0]} ({found})",
                hint=f"declare it in [sources.{self.source}.resources.{self.spec.name}] columns, or set "
                     'schema = "evolve"; nothing was loaded and the cursor did not move')
