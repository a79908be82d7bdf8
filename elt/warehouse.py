"""The warehouse of a target: one connection type for the toolkit's own SQL, a one-writer lock, catalog queries.

DuckDB and Postgres differ in drivers, parameter style and locking; everything above this module speaks
`Warehouse`: `execute(sql, params)` with `?` placeholders, `transaction()`, `close()`.

One writer at a time: DuckDB lets one process hold a database file for writing, and two runs publishing
into one Postgres schema at once would interleave. A writer takes an OS lock on a sidecar file (DuckDB) or a
Postgres advisory lock, which dies with its holder; a second writer fails at once naming the holder, or
waits for it (flows/writer.py).
"""
from __future__ import annotations

import hashlib
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import duckdb

from elt import filelock
from elt.config import Target
from elt.errors import ConfigError, EltError, WarehouseBusyError

INTERNAL_SCHEMA = "_elt"


class Warehouse:
    """A connection to a target's warehouse for the toolkit's own statements."""

    def __init__(self, target: Target, raw: Any) -> None:
        self.target, self.raw = target, raw

    @property
    def dialect(self) -> str:
        return self.target.dialect

    def execute(self, sql: str, params: list | None = None) -> Any:
        """Run one statement (`?` placeholders); the result has fetchone()/fetchall()."""
        raise NotImplementedError

    def executemany(self, sql: str, rows: list[list]) -> None:
        for row in rows:
            self.execute(sql, row)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.execute("begin")
        try:
            yield
        except BaseException:
            self.execute("rollback")
            raise
        self.execute("commit")

    def close(self) -> None:
        self.raw.close()

    def worker(self) -> "Warehouse":
        """A connection of this warehouse for one worker thread, with its own transactions; close it after use."""
        raise NotImplementedError

    def interrupt(self) -> None:
        """Stop the statement running on this connection, from another thread."""
        raise NotImplementedError


class DuckDBWarehouse(Warehouse):
    def execute(self, sql: str, params: list | None = None) -> Any:
        return self.raw.execute(sql, params or [])

    def worker(self) -> Warehouse:
        # A cursor is a connection to the same database instance: the file is opened once per process.
        return DuckDBWarehouse(self.target, self.raw.cursor())

    def interrupt(self) -> None:
        self.raw.interrupt()


class PostgresWarehouse(Warehouse):
    """psycopg 3 in autocommit mode: each statement commits unless inside `transaction()`."""

    def execute(self, sql: str, params: list | None = None) -> Any:
        # The toolkit's SQL carries no literal '?' or '%': placeholders translate one to one.
        return self.raw.execute(sql.replace("%", "%%").replace("?", "%s") if params else sql, params or None)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self.raw.transaction():
            yield

    def worker(self) -> Warehouse:
        return PostgresWarehouse(self.target, _pg_connect(self.target))

    def interrupt(self) -> None:
        if not self.raw.closed:
            self.raw.cancel_safe()


def check_runnable(target: Target) -> None:
    """Fail before any work if the target cannot run here or lacks its connection string."""
    if not target.runnable:
        raise ConfigError(f"target {target.name} ({target.type}) can be compiled for but not run here",
                          hint="use a duckdb or postgres target for `elt run`; `elt compile --target` works for all")
    if target.dsn_env:
        target.dsn()


def connect(target: Target, read_only: bool = False) -> Warehouse:
    """Open the target's warehouse (creating a DuckDB file's folder on first use)."""
    check_runnable(target)
    if target.type == "duckdb":
        target.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return DuckDBWarehouse(target, duckdb.connect(str(target.path), read_only=read_only))
        except duckdb.IOException as err:  # another process (a BI tool, the duckdb CLI) has the file open
            raise WarehouseBusyError(f"cannot open {target.path}: {str(err).splitlines()[0]}",
                                     hint="close the other program that has the file open, then run again") from None
    return PostgresWarehouse(target, _pg_connect(target))


def _pg_connect(target: Target) -> Any:
    import psycopg

    try:
        return psycopg.connect(target.dsn(), autocommit=True, application_name=f"elt:{target.name}")
    except psycopg.Error as err:
        # psycopg's message names host and port, never the password; keep only its first line.
        first_line = target.redact(str(err).strip().splitlines()[0])
        raise EltError(f"cannot connect to target {target.name}: {first_line}",
                       hint=f"check the connection string in ${target.dsn_env}") from None


def append(wh: Warehouse, table: str, columns: str, rows: list[list[Any]]) -> None:
    """Insert `rows` into a record table (`schema.table`) of the toolkit's own, created with `columns` (its
    column definitions) the first time."""
    if not rows:
        return
    wh.execute(f"create schema if not exists {table.split('.')[0]}")
    wh.execute(f"create table if not exists {table} ({columns})")
    wh.executemany(f"insert into {table} values ({', '.join(['?'] * len(rows[0]))})", rows)


def exists(wh: Warehouse, schema: str, name: str) -> bool:
    row = wh.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                     [schema, name]).fetchone()
    return bool(row and row[0])


def raw_catalog(wh: Warehouse) -> dict[str, dict[str, str]]:
    """Columns of every table in the raw datasets (`raw_*` schemas), keyed `schema.table`."""
    rows = wh.execute(
        "select table_schema, table_name, column_name, data_type from information_schema.columns "
        "where table_schema like 'raw\\_%' escape '\\' and table_name not like '\\_dlt%' escape '\\' "
        "order by table_schema, table_name, ordinal_position"
    ).fetchall()
    catalog: dict[str, dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        catalog.setdefault(f"{schema}.{table}".lower(), {})[column.lower()] = data_type
    return catalog


def has_data(target: Target) -> bool:
    """Whether anything was ever written to the target (a DuckDB file exists; a Postgres server always counts)."""
    return target.path.exists() if target.type == "duckdb" else target.runnable


# --- one writer ------------------------------------------------------------------------------------------

def lock_path(target: Target) -> Path:
    return target.path.with_name(target.path.name + ".lock")


@contextmanager
def exclusive(target: Target, who: str = "", wait_seconds: float = 0,
              on_wait: Callable[[str], None] | None = None) -> Iterator[str | None]:
    """Hold the target's writer lock for the duration of a run; `who` tells waiting runs who has it.

    Held by another: fail at once (`wait_seconds=0`), or call `on_wait(holder)` and wait that long. The
    lock dies with its holder (kernel file lock, Postgres session), so a killed run never blocks the next;
    yields the holder such a run left behind, None after a clean release.
    """
    holder = filelock.me(who)
    lock = (_pg_exclusive(target, holder, wait_seconds, on_wait) if target.type == "postgres"
            else filelock.held(lock_path(target), holder, wait_seconds, on_wait))
    with ExitStack() as stack:
        try:  # only taking the lock: what the holder then does is its own business
            left_behind = stack.enter_context(lock)
        except filelock.Busy as busy:
            if not wait_seconds:
                raise WarehouseBusyError(f"warehouse {target.describe()} is in use by {busy.holder}",
                                         hint="wait for that run to finish, then run again") from None
            raise WarehouseBusyError(
                f"waited {int(wait_seconds)}s for warehouse {target.name}, held by {busy.holder}",
                hint="see the running flow runs in the Prefect UI, or raise wait_for_warehouse_seconds") from None
        yield left_behind


def _advisory_key(target: Target) -> int:
    """A stable 63-bit key per target name (advisory locks are per database, so per warehouse too)."""
    return int.from_bytes(hashlib.sha256(f"elt-writer:{target.name}".encode()).digest()[:8], "big") >> 1


WRITER_TABLE = f"{INTERNAL_SCHEMA}.writer"  # who holds the advisory lock, for the messages of those who wait


@contextmanager
def _pg_exclusive(target: Target, me: str, wait_seconds: float | None,
                  on_wait: Callable[[str], None] | None) -> Iterator[str | None]:
    wh = connect(target)
    try:
        filelock.acquire(lambda: wh.execute("select pg_try_advisory_lock(?)", [_advisory_key(target)]).fetchone()[0],
                         lambda: _pg_holder(target) or "another session", wait_seconds, on_wait)
        wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
        wh.execute(f"create table if not exists {WRITER_TABLE} (holder varchar not null)")
        with wh.transaction():
            row = wh.execute(f"select holder from {WRITER_TABLE}").fetchone()
            wh.execute(f"delete from {WRITER_TABLE}")
            wh.execute(f"insert into {WRITER_TABLE} values (?)", [me])
        try:
            yield row[0] if row else None
        finally:
            wh.execute(f"delete from {WRITER_TABLE}")
    finally:
        wh.close()  # ending the session releases its advisory lock, also after a crash


def _pg_holder(target: Target) -> str | None:
    """The recorded holder, if a session holds the advisory lock right now."""
    wh = connect(target)
    try:
        held = wh.execute("select count(*) from pg_locks where locktype = 'advisory' and granted "
                          "and ((classid::bigint << 32) | objid::bigint) = ?", [_advisory_key(target)]).fetchone()[0]
        if not held:
            return None
        if not exists(wh, INTERNAL_SCHEMA, "writer"):
            return "another session"
        row = wh.execute(f"select holder from {WRITER_TABLE}").fetchone()
        return row[0] if row else "another session"
    finally:
        wh.close()
