"""SQL database sources (Postgres, MySQL/MariaDB) through dlt's sql_database, Arrow end to end.

Tables go through `sql_table` with the connectorx backend streaming Arrow batches of `chunk_size` rows
(memory is bounded by the chunk, not the table; dlt's default sqlalchemy backend is ~60x slower), the
cursor pushed into the query's WHERE. A `query` resource runs the user's SELECT the same way.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterator
from urllib.parse import urlsplit

import connectorx as cx
import dlt
from dlt.sources.sql_database import sql_table

from elt.config import Source
from elt.errors import ConfigError, SourceError
from elt.source_config import Resource
from sources.hints import hints
from sources.secrets import secret
from sources.sql_checks import check_source

# DSN scheme -> (SQLAlchemy URL scheme for reflection, connectorx URL scheme for the data)
SCHEMES = {"postgresql": ("postgresql+psycopg2", "postgresql"), "postgres": ("postgresql+psycopg2", "postgresql"),
           "mysql": ("mysql+pymysql", "mysql"), "mariadb": ("mysql+pymysql", "mysql")}


def urls(source: Source) -> tuple[str, str]:
    """The SQLAlchemy and connectorx URLs of the source's DSN (read from its environment variable)."""
    dsn = secret(source.options["dsn_env"], source)
    scheme = urlsplit(dsn).scheme.split("+")[0] if "://" in dsn else ""
    if scheme not in SCHEMES:
        found = f" (it starts with {scheme}://)" if scheme else ""  # the scheme only: the rest may hold a password
        raise ConfigError(f"source {source.name}: {source.options['dsn_env']} must be a postgresql:// or "
                          f"mysql:// URL{found}", hint="e.g. postgresql://user:password@host:5432/database")
    rest = dsn.split("://", 1)[1]
    alchemy, cx = SCHEMES[scheme]
    return f"{alchemy}://{rest}", f"{cx}://{rest}"


def sql_source(source: Source) -> Any:
    alchemy_url, cx_url = urls(source)
    check_source(source, alchemy_url)
    opts = source.options
    resources = []
    for spec in opts["resources"].values():
        incremental = (dlt.sources.incremental(spec.incremental.cursor, initial_value=spec.incremental.initial)
                       if spec.incremental else None)
        if "query" in spec.options:
            resource = dlt.resource(_query_rows(cx_url, spec, opts["chunk_size"]), name=spec.name,
                                    **hints(spec, enforce_freeze=True))
        else:
            resource = sql_table(
                credentials=alchemy_url, table=spec.options.get("table", spec.name), schema=opts["database_schema"],
                incremental=incremental, chunk_size=opts["chunk_size"], backend=opts["backend"],
                reflection_level="minimal",
                backend_kwargs={"conn": cx_url, "return_type": "arrow_stream", "protocol": "binary"}
                if opts["backend"] == "connectorx" else None,
            ).with_name(spec.name)
            resource.apply_hints(**hints(spec, enforce_freeze=True), table_name=spec.name)
        resources.append(resource)
    return dlt.source(lambda: resources, name=source.name)()


def _query_rows(cx_url: str, spec: Resource, chunk_size: int) -> Any:
    inc = spec.incremental
    offsets = cx_url.startswith("postgresql")

    # dlt finds the cursor through the argument's default and keeps its state
    default = dlt.sources.incremental(inc.cursor, initial_value=inc.initial) if inc else None

    def rows(cursor: Any = default) -> Iterator[Any]:
        query = spec.options["query"].strip().rstrip(";")
        if cursor is not None and cursor.last_value is not None:
            query = (f"SELECT * FROM ({query}) AS q WHERE {inc.cursor} >= {_literal(cursor.last_value, offsets)} "
                     f"ORDER BY {inc.cursor}")
        yield from cx.read_sql(cx_url, query, return_type="arrow_stream", batch_size=chunk_size)
    return rows


def _literal(value: Any, offsets: bool) -> str:
    """A cursor value as SQL text (it comes from our own state, never from the data source's users)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str, date, datetime)):
        raise SourceError(f"cannot use cursor value {value!r} in a query")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, datetime) and value.tzinfo and not offsets:  # MySQL/MariaDB: compare in UTC
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return "'" + str(value).replace("'", "''") + "'"
