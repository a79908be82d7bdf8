"""The `[sources.*]` part of elt.toml: kinds, their settings and per-resource declarations, validated at load.

Secrets are never values here: keys ending in `_env` name an environment variable (or a dlt secret of that
name) that is read when the source runs.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from elt.toml_table import TomlTable

SOURCE_KINDS = ("demo_shop", "rest_api", "sql_database", "filesystem", "python")
WRITE_DISPOSITIONS = ("append", "merge", "replace", "scd2")
SCHEMA_MODES = ("evolve", "freeze")
# Declared column types of REST and file resources; rows that do not fit go to dead letters.
COLUMN_TYPES = ("bigint", "double", "text", "boolean", "timestamp", "date", "json")
FILE_FORMATS = ("csv", "jsonl", "parquet")
PAGINATORS = ("auto", "single_page", "cursor", "json_link", "header_link", "offset", "page_number")
AUTH_KEYS = {"bearer": ("token_env",), "api_key": ("name", "location", "key_env"),
             "basic": ("username", "password_env")}
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A freshness SLA, on a source or (overriding it) a resource: data older than `freshness_hours` is reported
# (an event, a WARN in the gate), and with `freshness_block = true` nothing is published.
FRESHNESS_KEYS = ("freshness_hours", "freshness_block")
RESOURCE_KEYS = ("primary_key", "write_disposition", "incremental", "columns", "required", "schema", *FRESHNESS_KEYS)
KIND_RESOURCE_KEYS = {
    "rest_api": ("path", "params", "data_selector", "paginator", "parent"),
    "sql_database": ("table", "query"),
    "filesystem": ("glob", "format"),
}
KIND_KEYS = {
    "demo_shop": ("start", "orders_per_hour", "customers_per_day"),
    "rest_api": ("base_url", "auth", "headers", "max_attempts", "backoff_seconds", "max_backoff_seconds",
                 "timeout_seconds", "resources", "max_dead_letters"),
    "sql_database": ("dsn_env", "database_schema", "backend", "chunk_size", "resources"),
    "filesystem": ("bucket_url", "chunk_rows", "resources", "max_dead_letters"),
    "python": ("callable",),
}


@dataclass(frozen=True)
class Freshness:
    """Data older than `hours` (newest cursor, else last load) breaches the SLA; `block`: publish nothing."""

    hours: float
    block: bool = False


@dataclass(frozen=True)
class Incremental:
    """Load only rows whose `cursor` is beyond the last loaded value; `param` binds it to a request parameter."""

    cursor: str
    initial: Any = None
    param: str | None = None


@dataclass(frozen=True)
class Resource:
    """One table a source loads: keys, write disposition, cursor, declared columns and schema policy."""

    name: str
    primary_key: tuple[str, ...] = ()
    write_disposition: str = "append"
    incremental: Incremental | None = None
    columns: dict[str, str] = field(default_factory=dict)
    required: tuple[str, ...] = ()
    schema: str = "evolve"
    options: dict[str, Any] = field(default_factory=dict)
    freshness: Freshness | None = None  # None: the source's SLA, if any


def kind_of(entry: TomlTable) -> str:
    kind = entry.get("kind", str, choices=SOURCE_KINDS)
    entry.only(("kind", *FRESHNESS_KEYS, *KIND_KEYS[kind]))
    return kind


def freshness(entry: TomlTable) -> Freshness | None:
    """The SLA of a source or resource table, if it declares one."""
    if "freshness_hours" not in entry.data:
        if "freshness_block" in entry.data:
            raise entry.error("freshness_block", "freshness_block needs freshness_hours",
                              hint="e.g. freshness_hours = 6")
        return None
    hours = entry.data["freshness_hours"]
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or hours <= 0:
        raise entry.error("freshness_hours", f"expected a number of hours above 0, got {hours!r}",
                          hint="e.g. freshness_hours = 6 (or 0.5 for 30 minutes)")
    return Freshness(float(hours), entry.get("freshness_block", bool, False))


def load_options(kind: str, entry: TomlTable, root: Path) -> dict[str, Any]:
    """The validated settings of one source of `kind` (resources under the key "resources")."""
    return {"demo_shop": _demo_shop, "rest_api": _rest_api, "sql_database": _sql_database,
            "filesystem": _filesystem, "python": _python}[kind](entry, root)


def _demo_shop(entry: TomlTable, root: Path) -> dict[str, Any]:
    options = {
        "start": _timestamp(entry, "start", "2026-01-01T00:00:00Z"),
        "orders_per_hour": entry.get("orders_per_hour", int, 6),
        "customers_per_day": entry.get("customers_per_day", int, 24),
    }
    for key in ("orders_per_hour", "customers_per_day"):
        if not 1 <= options[key] <= 100_000:
            raise entry.error(key, "must be between 1 and 100000")
    return options


def _rest_api(entry: TomlTable, root: Path) -> dict[str, Any]:
    base_url = entry.get("base_url", str)
    if not re.match(r"^https?://", base_url):
        raise entry.error("base_url", f"{base_url!r} is not an http(s) URL", hint='e.g. "https://api.example.com/v1"')
    headers = entry.get("headers", dict, {})
    for name, value in headers.items():
        if not isinstance(value, str):
            raise entry.error(f"headers.{name}", "header values must be strings")
    options = {
        "base_url": base_url.rstrip("/") + "/",
        "auth": _auth(entry.table("auth")) if "auth" in entry.data else None,
        "headers": headers,
        "max_attempts": _positive(entry, "max_attempts", int, 5),
        "backoff_seconds": _positive(entry, "backoff_seconds", (int, float), 1.0),
        "max_backoff_seconds": _positive(entry, "max_backoff_seconds", (int, float), 60.0),
        "timeout_seconds": _positive(entry, "timeout_seconds", (int, float), 30.0),
        "max_dead_letters": _dead_letter_limit(entry),
    }
    options["resources"] = _resources(entry, "rest_api", typed=True)
    for resource in options["resources"].values():
        parent = resource.options.get("parent")
        if parent and parent["resource"] not in options["resources"]:
            raise entry.error(f"resources.{resource.name}.parent.resource",
                              f"{parent['resource']!r} is not a resource of this source",
                              hint=f"resources: {', '.join(options['resources'])}")
    return options


def _sql_database(entry: TomlTable, root: Path) -> dict[str, Any]:
    options = {
        "dsn_env": _env_name(entry, "dsn_env"),
        "database_schema": entry.get("database_schema", str, None),
        "backend": entry.get("backend", str, "connectorx", choices=("connectorx", "pyarrow")),
        "chunk_size": _positive(entry, "chunk_size", int, 100_000),
    }
    options["resources"] = _resources(entry, "sql_database", typed=False)
    return options


def _filesystem(entry: TomlTable, root: Path) -> dict[str, Any]:
    bucket_url = entry.get("bucket_url", str)
    if "://" not in bucket_url:  # a local folder, relative to the project unless absolute; which files are
        # new does not depend on where the project is (sources/file_registry.py keeps paths relative to it)
        bucket_url = f"file://{(root / bucket_url).resolve()}"
    return {"bucket_url": bucket_url, "chunk_rows": _positive(entry, "chunk_rows", int, 100_000),
            "max_dead_letters": _dead_letter_limit(entry),
            "resources": _resources(entry, "filesystem", typed=True)}


def _python(entry: TomlTable, root: Path) -> dict[str, Any]:
    target = entry.get("callable", str)
    if not re.match(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$", target):
        raise entry.error("callable", f"{target!r} is not module:function",
                          hint='e.g. "my_sources.crm:crm_source" (a module importable from the project)')
    return {"callable": target, "resources": {}}


def _resources(entry: TomlTable, kind: str, typed: bool) -> dict[str, Resource]:
    section = entry.table("resources")
    if not section.data:
        raise entry.error("resources", "no resource declared",
                          hint=f"add [{entry.prefix}.resources.<table>] sections")
    resources = {}
    for name in section.data:
        section.check_key(name)
        resources[name] = _resource(name, section.table(name), kind, typed)
    return resources


def _resource(name: str, entry: TomlTable, kind: str, typed: bool) -> Resource:
    entry.only(RESOURCE_KEYS + KIND_RESOURCE_KEYS[kind])
    primary_key = _names(entry, "primary_key")
    disposition = entry.get("write_disposition", str, "merge" if primary_key else "append",
                            choices=WRITE_DISPOSITIONS)
    if disposition in ("merge", "scd2") and not primary_key:
        raise entry.error("write_disposition", f"{disposition} needs a primary_key",
                          hint='add primary_key = "id" (or a list of columns)')
    columns: dict[str, str] = {}
    if "columns" in entry.data:
        if not typed:
            raise entry.error("columns", "sql_database tables are typed by the database",
                              hint="remove columns; the source's own types are loaded")
        columns = {column: entry.table("columns").get(column, str, choices=COLUMN_TYPES)
                   for column in entry.get("columns", dict)}
    schema = entry.get("schema", str, "evolve", choices=SCHEMA_MODES)
    if schema == "freeze" and typed and not columns:
        raise entry.error("schema", "a frozen resource needs its columns declared",
                          hint='add columns = { ... }, or leave schema = "evolve"')
    required = _names(entry, "required")
    unknown = [column for column in required if columns and column not in columns]
    if unknown:
        raise entry.error("required", f"{unknown[0]!r} is not a declared column", hint="declare it in columns")
    incremental = _incremental(entry, kind) if "incremental" in entry.data else None
    if kind == "rest_api" and incremental:
        if incremental.cursor not in columns:
            raise entry.error("incremental.cursor", f"declare the type of {incremental.cursor!r} in columns",
                              hint="rows whose cursor does not fit the type then go to dead letters")
        if "parent" in entry.data:
            raise entry.error("incremental", "a child resource follows its parent's cursor",
                              hint="put the incremental on the parent resource")
        required = tuple(dict.fromkeys((*required, incremental.cursor)))
    options = {key: entry.data[key] for key in KIND_RESOURCE_KEYS[kind] if key in entry.data}
    if kind == "rest_api":
        options = _rest_resource(name, entry, options)
    elif kind == "sql_database":
        entry.get("table", str, None)
        entry.get("query", str, None)
        if "table" in options and "query" in options:
            raise entry.error("query", "give either table or query", hint="a query resource needs no table")
    elif kind == "filesystem":
        glob = entry.get("glob", str)
        fmt = entry.get("format", str, glob.rsplit(".", 1)[-1].lower(), choices=FILE_FORMATS)
        if fmt not in FILE_FORMATS:
            raise entry.error("format", f"cannot tell the format of {glob!r}",
                              hint=f"add format = one of {', '.join(FILE_FORMATS)}")
        options = {"glob": glob, "format": fmt}
        if incremental is not None:
            raise entry.error("incremental", "files are incremental by modification time already",
                              hint="remove it: each file is loaded once")
    return Resource(
        name=name, primary_key=primary_key, write_disposition=disposition, incremental=incremental,
        columns=columns, required=tuple(dict.fromkeys((*primary_key, *required))) if columns else required,
        schema=schema, options=options, freshness=freshness(entry),
    )


def _rest_resource(name: str, entry: TomlTable, options: dict[str, Any]) -> dict[str, Any]:
    options["path"] = entry.get("path", str, name)
    entry.get("params", dict, {})
    entry.get("data_selector", str, None)
    if "paginator" in entry.data:
        paginator = entry.table("paginator")
        paginator.get("type", str, choices=PAGINATORS)
        options["paginator"] = dict(paginator.data)
    if "parent" in entry.data:
        parent = entry.table("parent")
        parent.only(("resource", "field", "param"))
        options["parent"] = {"resource": parent.identifier("resource"), "field": parent.get("field", str),
                             "param": parent.get("param", str)}
    return options


def _incremental(entry: TomlTable, kind: str) -> Incremental:
    section = entry.table("incremental")
    section.only(("cursor", "initial", "param") if kind == "rest_api" else ("cursor", "initial"))
    initial = section.data.get("initial")
    if isinstance(initial, str):
        initial = _timestamp(section, "initial", initial) if re.match(r"^\d{4}-\d\d-\d\d", initial) else initial
    cursor = section.identifier("cursor") if kind == "sql_database" else section.get("cursor", str)
    return Incremental(cursor=cursor, initial=initial, param=section.get("param", str, None))


def _auth(entry: TomlTable) -> dict[str, Any]:
    kind = entry.get("type", str, choices=tuple(AUTH_KEYS))
    entry.only(("type", *AUTH_KEYS[kind]))
    auth: dict[str, Any] = {"type": kind}
    for key in AUTH_KEYS[kind]:
        if key.endswith("_env"):
            auth[key] = _env_name(entry, key)
        elif key == "location":
            auth[key] = entry.get(key, str, "header", choices=("header", "query"))
        else:
            auth[key] = entry.get(key, str)
    return auth


def _names(entry: TomlTable, key: str) -> tuple[str, ...]:
    value = entry.data.get(key, [])
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise entry.error(key, "expected a column name or a list of column names")
    return tuple(names)


def _env_name(entry: TomlTable, key: str) -> str:
    name = entry.get(key, str)
    if not ENV_NAME.match(name):
        raise entry.error(key, f"{name!r} is not an environment variable name",
                          hint="name the variable that holds the secret; the secret itself never goes here")
    return name


def _positive(entry: TomlTable, key: str, kind: type | tuple, default: Any) -> Any:
    value = entry.data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, kind) or value <= 0:
        raise entry.error(key, f"expected a positive number, got {value!r}")
    return value


def _dead_letter_limit(entry: TomlTable) -> int | None:
    if "max_dead_letters" not in entry.data:
        return None
    value = entry.get("max_dead_letters", int)
    if value < 0:
        raise entry.error("max_dead_letters", "must be 0 or more", hint="leave it out for no limit")
    return value


def _timestamp(entry: TomlTable, key: str, default: str) -> datetime:
    text = entry.get(key, str, default)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise entry.error(key, f"{text!r} is not an ISO timestamp", hint='e.g. "2026-01-01T00:00:00Z"') from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
