"""Run a declared source into its raw dataset with dlt: one run per pipeline, pending packages of a killed
run first (sources/recovery.py), then what is new. dlt commits the incremental cursor with the load
package, so a failed load never advances it. Also: where each source stands (`elt sources`) and the raw
tables' columns for lint.
"""
from __future__ import annotations

import importlib
import logging
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator

import dlt
import pyarrow as pa
from dlt.common.configuration.exceptions import ConfigFieldMissingException, ConfigurationException, LookupTraces
from dlt.common.destination.client import DestinationClientConfiguration
from dlt.common.schema.exceptions import DataValidationError
from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials
from dlt.destinations.impl.postgres.configuration import PostgresCredentials
from dlt.pipeline.exceptions import PipelineStepFailed

from elt import warehouse
from elt.config import Project, Source, Target
from elt.errors import ConfigError, DeadLettersExceeded, EltError, SchemaFrozenError, SourceError
from sources.dead_letters import DEAD_LETTERS, DeadLetters
from sources.file_registry import FILE_LISTING
from sources.lock import pipeline_lock
from sources.progress import LoadProgress
from sources.recovery import complete_pending
from sources.secrets import redact
from sources.shop_schema import SCHEMAS

log = logging.getLogger("elt.sources")


def _not_hint_merge_notice(record: logging.LogRecord) -> bool:
    # dlt warns on every Arrow batch whose nullability differs from our primary-key hints; our hints win, as meant
    return "when merging arrow schema with dlt schema" not in record.getMessage()


logging.getLogger("dlt").addFilter(_not_hint_merge_notice)
DUCKDB_LOAD_MEMORY = "512MB"
ADD_ROW_ID = "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_ID"
# dlt COPYs Parquet into Postgres through ADBC: its csv path re-encodes every Arrow batch as text in normalize
# (2M rows: 25 s of a 33 s load; Parquet: 5.7 s in all)
LOADER_FORMAT_POSTGRES = "parquet"
# The Parquet files dlt writes live for one load and are read back at once: snappy costs more CPU than its bytes
# save (a 2M-row Parquet file source: 10 % of the whole load). A user's own setting wins.
os.environ.setdefault("DATA_WRITER__COMPRESSION", "none")


@dataclass(frozen=True)
class LoadResult:
    """What one source load did: rows per table and where each incremental cursor now stands."""

    source: str
    dataset: str
    rows: dict[str, int]
    cursors: dict[str, str] = field(default_factory=dict)
    resumed_packages: int = 0
    dead_letters: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def build_source(project: Project, source: Source, run_id: str | None = None) -> Any:
    """The dlt source object for a declared source; REST and file sources carry a dead-letter resource.

    Each kind's module is imported when a source of that kind runs: dlt's SQL and REST helpers cost
    ~0.5 s of imports (SQLAlchemy, requests) that a run of other kinds need not pay.
    """
    if source.kind == "demo_shop":
        from sources.shop import shop_source

        return shop_source(source.options["start"], source.options["orders_per_hour"],
                           source.options["customers_per_day"])
    if source.kind == "rest_api":
        from sources.rest import rest_source

        return rest_source(source, DeadLetters(source.name, run_id))
    if source.kind == "sql_database":
        from sources.sql import sql_source

        return sql_source(source)
    if source.kind == "filesystem":
        from sources.files import files_source

        return files_source(source, DeadLetters(source.name, run_id))
    return custom_source(project, source)


def custom_source(project: Project, source: Source) -> Any:
    """`kind = "python"`: a function of the user's, importable from the project, returning a dlt source."""
    module_name, function = source.options["callable"].split(":")
    if str(project.root) not in sys.path:
        sys.path.insert(0, str(project.root))
    try:
        factory = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError) as err:
        raise SourceError(f"source {source.name}: cannot import {source.options['callable']}: {err}",
                          hint="the module must be importable from the project folder") from err
    return factory()


def destination_for(target: Target) -> tuple[Any, str]:
    """The dlt destination of a target and the loader file format that is fastest for Arrow items there."""
    if target.type == "duckdb":
        target.path.parent.mkdir(parents=True, exist_ok=True)
        # DuckDB spills past this instead of growing with the table (a first merge of 10M rows took 1.6 GB)
        credentials = DuckDbCredentials(str(target.path), global_config={"memory_limit": DUCKDB_LOAD_MEMORY})
        return dlt.destinations.duckdb(credentials), "parquet"
    if target.type == "postgres":
        credentials = PostgresCredentials(target.dsn())
        # dlt requires a password; trust, peer and ~/.pgpass logins have none (libpq reads "" as none given)
        credentials.password = credentials.password or ""
        return dlt.destinations.postgres(credentials=credentials), LOADER_FORMAT_POSTGRES
    raise SourceError(f"target {target.name} ({target.type}) cannot be loaded into from here",
                      hint="use a duckdb or postgres target")


def pipeline_for(project: Project, source: Source, target: Target) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"{project.name}__{source.name}__{target.name}",
        destination=destination_for(target)[0],
        dataset_name=source.dataset,
        pipelines_dir=str(project.root / ".elt" / "dlt"),
        progress=LoadProgress(source.name),
    )


def load(project: Project, source: Source, target: Target, run_id: str | None = None) -> LoadResult:
    """Extract what is new since the stored cursor and load it into `raw_<source>`.

    Pending packages of an interrupted run are loaded first. Rejected rows are loaded into the dead-letter
    table with the good ones; too many of them fail the load afterwards (the rows stay for inspection).
    """
    file_format = destination_for(target)[1]
    pipeline = pipeline_for(project, source, target)
    with pipeline_lock(pipeline):
        try:
            resumed = complete_pending(pipeline, source)
            with _row_ids_if_scd2(source):
                pipeline.run(build_source(project, source, run_id), loader_file_format=file_format)
        except Exception as err:
            if stop := _interruption(err):
                raise stop from None
            if isinstance(err, PipelineStepFailed):
                raise _step_error(source, target, err) from err
            if isinstance(err, ConfigurationException):  # dlt resolving its configuration outside a step
                raise _config_error(source, target, err) from err
            raise
    counts = _extracted_rows(pipeline)
    rows = {table: count for table, count in counts.items() if count and table != DEAD_LETTERS}
    result = LoadResult(source=source.name, dataset=source.dataset, rows=rows,
                        cursors=_cursors(pipeline, source), resumed_packages=resumed,
                        dead_letters=counts.get(DEAD_LETTERS, 0))
    if result.dead_letters:
        log.warning("source %s: %d row(s) rejected into %s.%s", source.name, result.dead_letters,
                    source.dataset, DEAD_LETTERS)
    limit = source.options.get("max_dead_letters")
    if limit is not None and result.dead_letters > limit:
        raise DeadLettersExceeded(
            f"source {source.name}: {result.dead_letters} rows went to dead letters (max_dead_letters = {limit})",
            hint=f"inspect {source.dataset}.{DEAD_LETTERS} (reason, raw_row); good rows and the cursor are loaded")
    return result


def _extracted_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per table of this run, as extracted (dlt 1.31's normalize counts values, not rows, for csv)."""
    counts: dict[str, int] = {}
    info = pipeline.last_trace.last_extract_info if pipeline.last_trace else None
    for metrics in (info.metrics.values() if info else ()):
        for step in metrics:
            for table, table_metrics in step["table_metrics"].items():
                if not table.startswith("_dlt"):
                    counts[table] = counts.get(table, 0) + table_metrics.items_count
    return counts


def _interruption(err: BaseException) -> KeyboardInterrupt | None:
    """Ctrl-C or SIGTERM (elt_cli/main.py) inside dlt: a stop, not a failure. dlt catches it and raises a failed
    step, or, when its handler fails in turn (a package half normalized), something else on top of it."""
    chain: list[BaseException] = []
    seen: BaseException | None = err
    while seen is not None and seen not in chain:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        chain.append(seen)
        seen = getattr(seen, "exception", None) or seen.__cause__ or seen.__context__
    return None


def _step_error(source: Source, target: Target, err: PipelineStepFailed) -> EltError:
    """Our own errors raised inside dlt's steps come out as they are; others get the step and the cause."""
    cause: BaseException | None = err.exception
    while cause is not None:
        if isinstance(cause, EltError):
            return cause
        if isinstance(cause, ConfigurationException):
            return _config_error(source, target, cause)
        if isinstance(cause, DataValidationError):  # dlt's contract of a frozen sql_database table
            column, item = cause.column_name, cause.data_item
            item = item[0] if isinstance(item, list) and item else item
            found = (f" (type {item.schema.field(column).type})"
                     if isinstance(item, pa.Table) and column in item.column_names else "")
            return SchemaFrozenError(
                f"source {source.name}: the schema of {cause.table_name} is frozen, but the data changes its "
                f"{cause.schema_entity}" + (f": new column {column}{found}" if column else ""),
                hint=f"set schema = \"evolve\" on [sources.{source.name}.resources.{cause.table_name}]")
        cause = cause.__cause__ or cause.__context__
    return SourceError(f"source {source.name}: {err.step} failed: {_redacted(source, target, str(err.exception))}",
                       hint="the cursor did not move; fix the cause and run again (pending data is loaded first)")


def _config_error(source: Source, target: Target, err: ConfigurationException) -> ConfigError:
    """dlt's configuration dump names neither our target nor our variable (and may grow with every provider it
    probed): say which target or source, and which setting, without any value."""
    missing = _missing_fields(err) if isinstance(err, ConfigFieldMissingException) else []
    if missing and isinstance(err.config, DestinationClientConfiguration):
        fields = ", ".join(name.removeprefix("credentials.") for name in missing)
        where = f"in ${target.dsn_env}" if target.dsn_env else f"in [targets.{target.name}]"
        return ConfigError(f"target {target.name}: dlt's {target.type} destination needs the {fields} {where}",
                           hint=f"export {target.dsn_env}=postgresql://USER:PASSWORD@HOST:5432/DATABASE (no "
                                "password for trust or ~/.pgpass logins)"
                           if target.dsn_env else f"check [targets.{target.name}] in elt.toml")
    problem = f"needs {', '.join(missing)}" if missing else _redacted(source, target, str(err).splitlines()[0])
    return ConfigError(f"source {source.name}: dlt's configuration {problem}",
                       hint=f"check [sources.{source.name}] in elt.toml and the variables its *_env keys name")


def _missing_fields(err: ConfigFieldMissingException) -> list[str]:
    """The innermost missing fields (`credentials.password`), never their values."""
    def walk(prefix: str, traces: dict) -> list[str]:
        found = []
        for name, lookups in traces.items():
            nested = [lookup for lookup in lookups if isinstance(lookup, LookupTraces)]
            found += [f for lookup in nested for f in walk(f"{prefix}{name}.", lookup.traces)] or [prefix + name]
        return found
    return walk("", err.traces)


def _redacted(source: Source, target: Target, text: str) -> str:
    return target.redact(redact(source, text))


@contextmanager
def _row_ids_if_scd2(source: Source) -> Iterator[None]:
    """SCD2 tables need dlt's row hash (`_dlt_id`), which Arrow items get only when asked; others skip the cost."""
    resources = source.options.get("resources", {}).values()
    if not any(spec.write_disposition == "scd2" for spec in resources):
        yield
        return
    before = os.environ.get(ADD_ROW_ID)
    os.environ[ADD_ROW_ID] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[ADD_ROW_ID]
        else:
            os.environ[ADD_ROW_ID] = before


def _cursors(pipeline: dlt.Pipeline, source: Source) -> dict[str, str]:
    """The last incremental value of each resource, from dlt's state (for files: the newest file's mtime)."""
    cursors = {}
    for source_state in pipeline.state.get("sources", {}).values():
        for resource, state in source_state.get("resources", {}).items():
            if "last_value" in state:  # REST resources keep their own cursor (sources/rest.py)
                cursors[resource] = str(state["last_value"])
            for cursor in state.get("incremental", {}).values():
                value = cursor.get("last_value")
                cursors[resource] = value.isoformat() if isinstance(value, datetime) else str(value)
    if source.kind == "filesystem":
        cursors = {name.removesuffix(FILE_LISTING): value for name, value in cursors.items()}
    return cursors


@dataclass(frozen=True)
class SourceStatus:
    """Where a source stands: its cursors (dlt's state), its last completed load and rows per raw table."""

    source: str
    kind: str
    dataset: str
    cursors: dict[str, str]
    last_load: datetime | None
    rows: dict[str, int]


def status(project: Project, source: Source, target: Target, wh: warehouse.Warehouse | None = None) -> SourceStatus:
    """Read-only: the pipeline's local state and the warehouse's raw tables; nothing is extracted. `wh`: an open
    connection to read through (a DuckDB file is opened once per process)."""
    pipeline = pipeline_for(project, source, target)
    rows: dict[str, int] = {}
    last_load = None
    if wh is None and warehouse.has_data(target):
        own = warehouse.connect(target, read_only=True)
        try:
            return status(project, source, target, own)
        finally:
            own.close()
    if wh is not None:
        for table in (*_table_names(source), DEAD_LETTERS):
            if warehouse.exists(wh, source.dataset, table):
                rows[table] = wh.execute(f"select count(*) from {source.dataset}.{table}").fetchone()[0]
        if warehouse.exists(wh, source.dataset, "_dlt_loads"):
            last_load = wh.execute(f"select max(inserted_at) from {source.dataset}._dlt_loads "
                                   "where status = 0").fetchone()[0]
    return SourceStatus(source.name, source.kind, source.dataset, _cursors(pipeline, source), last_load, rows)


def _table_names(source: Source) -> tuple[str, ...]:
    return tuple(SCHEMAS) if source.kind == "demo_shop" else tuple(source.options["resources"])


