"""The warehouse connection for a target, a one-writer lock, and catalog queries.

DuckDB lets one process hold a database file for writing; a second run would fail deep inside a step
with "Could not set lock on file". The run takes an OS lock on a sidecar file first, so a second run
fails at once naming the process that holds the warehouse.
"""
from __future__ import annotations

import fcntl
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from elt.config import Target
from elt.errors import WarehouseBusyError

INTERNAL_SCHEMA = "_elt"


def lock_path(target: Target) -> Path:
    return target.path.with_name(target.path.name + ".lock")


def last_holder(target: Target) -> str | None:
    """What the current (or a crashed) holder of the writer lock wrote about itself; None when released.

    Read without taking the lock, so asking never makes a starting run fail.
    """
    try:
        return lock_path(target).read_text().strip() or None
    except FileNotFoundError:
        return None


@contextmanager
def exclusive(target: Target, who: str = "") -> Iterator[None]:
    """Hold the target's writer lock for the duration of a run; `who` tells waiting runs who has it."""
    path = lock_path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise WarehouseBusyError(f"warehouse {target.path} is in use by {holder}",
                                     hint="wait for that run to finish, then run again") from None
        handle.truncate(0)
        handle.write(f"{who + ', ' if who else ''}pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)


def connect(target: Target, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    target.path.parent.mkdir(parents=True, exist_ok=True)
    return duckdb.connect(str(target.path), read_only=read_only)


def exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    row = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, name],
    ).fetchone()
    return bool(row and row[0])


def raw_catalog(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """Columns of every table in the raw datasets (`raw_*` schemas), keyed `schema.table`."""
    rows = con.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema like 'raw\\_%' escape '\\' and table_name not like '\\_dlt%' escape '\\' "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    catalog: dict[str, dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        catalog.setdefault(f"{schema}.{table}".lower(), {})[column.lower()] = data_type
    return catalog
