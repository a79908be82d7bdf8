"""Before a SQL source extracts: its database answers, every table resource names a table (or view) there and
every query resource compiles. Each failure names the source, the resource's key in elt.toml and what
exists instead; without this, dlt's sql_table fails on reflection with a bare traceback. What only a change
to elt.toml or the DSN can fix is a ConfigError (the flow does not retry it); a server that does not answer
is a SourceError.
"""
from __future__ import annotations

import difflib
from typing import Any

import sqlalchemy as sa

from elt.config import Source
from elt.errors import ConfigError, EltError, SourceError
from sources.secrets import redact

CONNECT_TIMEOUT_SECONDS = 10
MYSQL_UNKNOWN_DATABASE = 1049
SYSTEM_SCHEMAS = {"information_schema", "mysql", "performance_schema", "sys", "template0", "template1"}
SHOWN = 8  # names listed in a message; more are counted


def check_source(source: Source, alchemy_url: str) -> None:
    """Fail with a clear error unless the database, its tables and the queries are all there."""
    engine = sa.create_engine(alchemy_url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        try:
            con = engine.connect()
        except sa.exc.DBAPIError as err:
            raise _connect_error(source, alchemy_url, err) from None
        with con:
            _check_resources(source, con)
    finally:
        engine.dispose()


def _check_resources(source: Source, con: sa.Connection) -> None:
    schema = source.options["database_schema"]
    inspector = sa.inspect(con)
    if schema is not None and schema not in (schemas := inspector.get_schema_names()):
        raise ConfigError(f"source {source.name}: the database has no schema {schema}",
                          hint=f"fix database_schema in [sources.{source.name}]; schemas there: "
                               f"{_names([name for name in schemas if name not in SYSTEM_SCHEMAS], schema)}")
    where = f"schema {schema}" if schema else f"database {con.engine.url.database}"
    tables = [*inspector.get_table_names(schema), *inspector.get_view_names(schema)]
    for spec in source.options["resources"].values():
        key = f"[sources.{source.name}.resources.{spec.name}]"
        if "query" in spec.options:
            _check_query(source, con, spec.options["query"], key)
            continue
        table = spec.options.get("table", spec.name)
        if table not in tables:
            setting = "table" if "table" in spec.options else "the resource name (or table = \"...\")"
            raise ConfigError(f"source {source.name}: {where} has no table {table}",
                              hint=f"fix {setting} in {key}; tables there: {_names(tables, table)}")


def _check_query(source: Source, con: sa.Connection, query: str, key: str) -> None:
    """Compile the query without reading a row; the driver's cursor directly, so `%` and `:x` stay literal."""
    probe = f"SELECT * FROM ({query.strip().rstrip(';')}) AS q WHERE 1 = 0"
    cursor = con.connection.dbapi_connection.cursor()
    try:
        cursor.execute(probe)
    except con.dialect.loaded_dbapi.Error as err:
        raise ConfigError(f"source {source.name}: the query of {key} fails: {_driver_message(source, err)}",
                          hint="fix query there; it must be one SELECT (it runs as SELECT * FROM (query) AS q)"
                          ) from None
    finally:
        cursor.close()


def _connect_error(source: Source, alchemy_url: str, err: sa.exc.DBAPIError) -> EltError:
    url = sa.engine.make_url(alchemy_url)
    env = source.options["dsn_env"]
    server = f"{url.host}:{url.port or ('3306' if url.get_backend_name() == 'mysql' else '5432')}"
    if _unknown_database(err.orig, url.database):
        there = _databases(url)
        return ConfigError(f"source {source.name}: database {url.database} does not exist on {server}",
                           hint=f"fix the database at the end of the DSN in {env}"
                                + (f"; databases there: {there}" if there else ""))
    return SourceError(f"source {source.name}: cannot connect to {server} as {url.username}: "
                       f"{_driver_message(source, err.orig)}",
                       hint=f"check the DSN in {env} (user, password, host, port, database)")


def _unknown_database(orig: Any, database: str | None) -> bool:
    args = getattr(orig, "args", ())
    if args and args[0] == MYSQL_UNKNOWN_DATABASE:
        return True
    return f'database "{database}" does not exist' in str(orig)


def _databases(url: sa.URL) -> str:
    """The databases the same login can see (for a message), or "" if the server will not say."""
    mysql = url.get_backend_name() == "mysql"
    server = url.set(database="information_schema" if mysql else "postgres")  # there on every server
    sql = "SHOW DATABASES" if mysql else "SELECT datname FROM pg_database WHERE datallowconn"
    engine = sa.create_engine(server, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
    try:
        with engine.connect() as con:
            names = [row[0] for row in con.exec_driver_sql(sql)]
    except sa.exc.DBAPIError:
        return ""
    finally:
        engine.dispose()
    return _names([name for name in names if name not in SYSTEM_SCHEMAS], url.database or "")


def _driver_message(source: Source, err: BaseException) -> str:
    """The driver's first line, without secrets (psycopg2 adds the statement and a caret below it); pymysql
    keeps (code, text)."""
    args = getattr(err, "args", ())
    text = str(args[1]) if len(args) == 2 and isinstance(args[0], int) else str(err)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(err).__name__)
    return redact(source, " ".join(first.split()))


def _names(names: list[str], wanted: str) -> str:
    """A few of `names`, the closest to `wanted` first."""
    if not names:
        return "none"
    close = difflib.get_close_matches(wanted, names, n=3, cutoff=0.5)
    ordered = [*close, *sorted(set(names) - set(close))]
    more = f" and {len(ordered) - SHOWN} more" if len(ordered) > SHOWN else ""
    return ", ".join(ordered[:SHOWN]) + more

