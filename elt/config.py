"""Load and validate the project file (`elt.toml`) once, with messages naming the file and key."""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from elt import source_config
from elt.errors import ConfigError, Location
from elt.textfile import read_utf8
from elt.toml_table import TomlTable

PROJECT_FILE = "elt.toml"
TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)")
AUTHORING_DIALECTS = ("duckdb",)
# Target type -> the sqlglot dialect its SQL is written in. DuckDB and Postgres run here; the others are
# compile targets (`elt compile --target`) until someone can test them live.
TARGET_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "snowflake": "snowflake", "bigquery": "bigquery",
                   "databricks": "databricks", "motherduck": "duckdb"}
TARGET_TYPES = tuple(TARGET_DIALECTS)
RUNNABLE_TARGETS = ("duckdb", "postgres")
# Models built and verified at once. DuckDB runs them on cursors of one connection (its own threads share
# the cores); Postgres on one connection each, so the server's backends run them in parallel.
DEFAULT_THREADS = 4


@dataclass(frozen=True)
class Target:
    """Where data lands and models run. The SQL dialect, dlt destination and Soda data source derive from it.

    Credentials are never stored here: a Postgres target names the environment variable holding its DSN.
    """

    name: str
    type: str
    path: Path | None = None  # duckdb: the database file, resolved against the project directory
    dsn_env: str | None = None  # postgres: the environment variable with the connection string
    threads: int = DEFAULT_THREADS  # independent models built and verified at once

    @property
    def dialect(self) -> str:
        return TARGET_DIALECTS[self.type]

    @property
    def runnable(self) -> bool:
        return self.type in RUNNABLE_TARGETS

    def dsn(self) -> str:
        """The connection string, read from the environment at the moment it is needed.

        Only its shape is checked here, and a bad one is never echoed: it may hold a password.
        """
        example = f"export {self.dsn_env}=postgresql://USER:PASSWORD@HOST:5432/DATABASE"
        value = os.environ.get(self.dsn_env or "")
        if not value:
            raise ConfigError(f"target {self.name}: environment variable {self.dsn_env} is not set", hint=example)
        parts = urlsplit(value)
        try:
            port_ok = parts.port is None or parts.port > 0
        except ValueError:
            port_ok = False
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname or not parts.path.strip("/") \
                or not port_ok:
            raise ConfigError(f"target {self.name}: ${self.dsn_env} is not a postgresql:// URL with host, port and "
                              "database (its value is not shown: it may hold a password)", hint=example)
        return value

    def describe(self) -> str:
        """Where the data is, for people: a file path, or host/database without credentials."""
        if self.path is not None:
            return str(self.path)
        parts = urlsplit(self.dsn())
        return f"{self.type} database {parts.path.lstrip('/')} on {parts.hostname}:{parts.port or 5432}"

    def redact(self, text: str) -> str:
        """`text` with this target's password and connection string masked."""
        value = os.environ.get(self.dsn_env or "") or ""
        password = urlsplit(value).password if value else None
        for secret in filter(None, (value, password)):
            text = text.replace(secret, "***")
        return text


@dataclass(frozen=True)
class Source:
    """A declared source; `options` are the kind-specific settings, already validated."""

    name: str
    kind: str
    options: dict[str, Any] = field(default_factory=dict)
    freshness: source_config.Freshness | None = None  # its SLA; a resource's own overrides it

    @property
    def dataset(self) -> str:
        return f"raw_{self.name}"


@dataclass(frozen=True)
class Project:
    name: str
    root: Path
    dialect: str
    default_target: str
    published_schema: str
    keep_publications: int
    targets: dict[str, Target]
    sources: dict[str, Source]

    @property
    def models_dir(self) -> Path:
        return self.root / "transforms" / "models"

    @property
    def contracts_dir(self) -> Path:
        return self.root / "checks" / "contracts"

    def target(self, name: str | None = None) -> Target:
        name = name or self.default_target
        if name not in self.targets:
            raise ConfigError(
                f"unknown target {name!r}",
                where=Location(self.root / PROJECT_FILE, key="targets"),
                hint=f"use one of: {', '.join(sorted(self.targets))}",
            )
        return self.targets[name]


def find_project_root(start: Path) -> Path:
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory
    raise ConfigError(
        f"no {PROJECT_FILE} found in {start} or any parent directory",
        hint="run elt inside the project, or pass --project DIR",
    )


def load_project(root: Path | None = None) -> Project:
    root = find_project_root((root or Path.cwd()).resolve())
    path = root / PROJECT_FILE
    try:
        data = tomllib.loads(read_utf8(path, ConfigError))
    except tomllib.TOMLDecodeError as err:
        # Python 3.11's tomllib puts the position only in the message: "... (at line 9, column 8)"
        found = TOML_POSITION.search(str(err))
        line, col = (int(found[1]), int(found[2])) if found else (None, None)
        raise ConfigError(f"invalid TOML: {TOML_POSITION.sub('', str(err))}",
                          where=Location(path, line, col), hint="fix the syntax") from None
    doc = TomlTable(path, data, "")
    doc.only(("project", "targets", "sources"))

    proj = doc.table("project")
    proj.only(("name", "dialect", "default_target", "published_schema", "keep_publications"))
    targets = _load_targets(root, doc.table("targets"))
    default_target = proj.get("default_target", str, "dev")
    if default_target not in targets:
        raise proj.error("default_target", f"{default_target!r} is not a declared target",
                         hint=f"declared targets: {', '.join(sorted(targets)) or 'none'}")
    keep = proj.get("keep_publications", int, 10)
    if keep < 2:
        raise proj.error("keep_publications", "must be at least 2", hint="rollback needs the previous publication")
    return Project(
        name=proj.identifier("name"),
        root=root,
        dialect=proj.get("dialect", str, "duckdb", choices=AUTHORING_DIALECTS),
        default_target=default_target,
        published_schema=proj.identifier("published_schema", "analytics"),
        keep_publications=keep,
        targets=targets,
        sources=_load_sources(root, doc.table("sources")),
    )


def _load_targets(root: Path, section: TomlTable) -> dict[str, Target]:
    if not section.data:
        raise section.error("", "no target declared", hint='add [targets.dev] with type = "duckdb"')
    targets = {}
    for name in section.data:
        section.check_key(name)
        entry = section.table(name)
        kind = entry.get("type", str, choices=TARGET_TYPES)
        threads = entry.get("threads", int, DEFAULT_THREADS)
        if threads < 1:
            raise entry.error("threads", f"must be at least 1, got {threads}",
                              hint="the number of models built at once, e.g. threads = 4 (1: one after another)")
        if kind == "duckdb":
            entry.only(("type", "path", "threads"))
            path = Path(entry.get("path", str))
            targets[name] = Target(name=name, type=kind, path=path if path.is_absolute() else root / path,
                                   threads=threads)
        else:
            entry.only(("type", "dsn_env", "threads"))
            dsn_env = entry.get("dsn_env", str, f"ELT_{name.upper()}_DSN")
            if not re.match(r"^[A-Z_][A-Z0-9_]*$", dsn_env):
                raise entry.error("dsn_env", f"{dsn_env!r} is not an environment variable name",
                                  hint="upper-case letters, digits and underscores; the DSN itself never goes here")
            targets[name] = Target(name=name, type=kind, dsn_env=dsn_env, threads=threads)
    return targets


def _load_sources(root: Path, section: TomlTable) -> dict[str, Source]:
    sources = {}
    for name in section.data:
        section.check_key(name)
        entry = section.table(name)
        kind = source_config.kind_of(entry)
        sources[name] = Source(name=name, kind=kind, options=source_config.load_options(kind, entry, root),
                               freshness=source_config.freshness(entry))
    return sources
