"""Run a declared source into its raw dataset with dlt: finish pending packages first, then extract.

dlt's `run()` with pending load packages loads them and returns WITHOUT extracting, so a
crashed run is completed before new data is read. dlt commits the incremental cursor with the load
package, so a failed load never advances it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import dlt
import duckdb
from dlt.pipeline.exceptions import PipelineStepFailed

from elt import warehouse
from elt.config import Project, Source, Target
from elt.errors import EltError, SourceError
from sources.shop import SCHEMAS, shop_source

log = logging.getLogger("elt.sources")
DLT_COLUMNS = {"_dlt_load_id": "VARCHAR"}
LOADER_FORMAT_POSTGRES = "csv"  # dlt COPYs csv into Postgres; parquet is not supported there


@dataclass(frozen=True)
class LoadResult:
    """What one source load did: rows per table and where each incremental cursor now stands."""

    source: str
    dataset: str
    rows: dict[str, int]
    cursors: dict[str, str] = field(default_factory=dict)
    resumed_packages: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def build_source(source: Source) -> Any:
    """The dlt source object for a declared source."""
    if source.kind == "demo_shop":
        return shop_source(source.options["start"], source.options["orders_per_hour"],
                           source.options["customers_per_day"])
    raise SourceError(f"source kind {source.kind!r} has no builder")


def declared_tables(source: Source) -> dict[str, dict[str, str]]:
    """Columns each table of the source will have once loaded (lint needs them before the first load)."""
    if source.kind != "demo_shop":
        return {}
    sql_types = {"int64": "BIGINT", "string": "VARCHAR", "double": "DOUBLE", "timestamp[us, tz=UTC]": "TIMESTAMPTZ"}
    return {
        table: {f.name: sql_types[str(f.type)] for f in schema} | DLT_COLUMNS
        for table, schema in SCHEMAS.items()
    }


def destination_for(target: Target) -> tuple[Any, str]:
    """The dlt destination of a target and the loader file format that is fastest for Arrow items there."""
    if target.type == "duckdb":
        target.path.parent.mkdir(parents=True, exist_ok=True)
        return dlt.destinations.duckdb(str(target.path)), "parquet"
    if target.type == "postgres":
        return dlt.destinations.postgres(credentials=target.dsn()), LOADER_FORMAT_POSTGRES
    raise SourceError(f"target {target.name} ({target.type}) cannot be loaded into from here",
                      hint="use a duckdb or postgres target")


def pipeline_for(project: Project, source: Source, target: Target) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=f"{project.name}__{source.name}__{target.name}",
        destination=destination_for(target)[0],
        dataset_name=source.dataset,
        pipelines_dir=str(project.root / ".elt" / "dlt"),
        progress=dlt.progress.log(log_period=10, logger=log, dump_system_stats=False),
    )


def load(project: Project, source: Source, target: Target) -> LoadResult:
    """Extract what is new since the stored cursor and merge it into `raw_<source>`."""
    file_format = destination_for(target)[1]
    pipeline = pipeline_for(project, source, target)
    resumed = 0
    try:
        if pipeline.has_pending_data:
            resumed = len(pipeline.list_normalized_load_packages()) + len(pipeline.list_extracted_load_packages())
            log.warning("source %s: completing %d pending load package(s) of an interrupted run", source.name, resumed)
            pipeline.normalize(loader_file_format=file_format)
            pipeline.load()
        pipeline.run(build_source(source), loader_file_format=file_format)
    except PipelineStepFailed as err:
        raise SourceError(
            f"source {source.name}: {err.step} failed: {err.exception}",
            hint="the cursor did not move; fix the cause and run again (pending data is loaded first)",
        ) from err
    rows = {
        table: count
        for table, count in pipeline.last_trace.last_normalize_info.row_counts.items()
        if not table.startswith("_dlt")
    } if pipeline.last_trace.last_normalize_info else {}
    return LoadResult(source=source.name, dataset=source.dataset, rows=rows,
                      cursors=_cursors(pipeline), resumed_packages=resumed)


def _cursors(pipeline: dlt.Pipeline) -> dict[str, str]:
    """The last incremental value of each resource, from dlt's state."""
    cursors = {}
    for source_state in pipeline.state.get("sources", {}).values():
        for resource, state in source_state.get("resources", {}).items():
            for cursor in state.get("incremental", {}).values():
                value = cursor.get("last_value")
                cursors[resource] = value.isoformat() if isinstance(value, datetime) else str(value)
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


def status(project: Project, source: Source, target: Target) -> SourceStatus:
    """Read-only: the pipeline's local state and the warehouse's raw tables; nothing is extracted."""
    pipeline = pipeline_for(project, source, target)
    rows: dict[str, int] = {}
    last_load = None
    if warehouse.has_data(target):
        wh = warehouse.connect(target, read_only=True)
        try:
            for table in declared_tables(source):
                if warehouse.exists(wh, source.dataset, table):
                    rows[table] = wh.execute(f"select count(*) from {source.dataset}.{table}").fetchone()[0]
            if warehouse.exists(wh, source.dataset, "_dlt_loads"):
                last_load = wh.execute(f"select max(inserted_at) from {source.dataset}._dlt_loads "
                                       "where status = 0").fetchone()[0]
        finally:
            wh.close()
    return SourceStatus(source.name, source.kind, source.dataset, _cursors(pipeline), last_load, rows)


def raw_relations(project: Project, catalog: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Columns of every raw table: loaded ones from the warehouse catalog, the rest as the sources declare."""
    relations: dict[str, list[str]] = {}
    for source in project.sources.values():
        for table, columns in declared_tables(source).items():
            relations[f"{source.dataset}.{table}"] = list(columns)
    for table, columns in catalog.items():
        relations[table] = list(columns)
    return relations


def raw_relations_of(project: Project, target: Target) -> dict[str, list[str]]:
    """raw_relations for a target, reading its catalog if the warehouse exists and is not being written."""
    catalog: dict[str, dict[str, str]] = {}
    if warehouse.has_data(target):
        try:
            con = warehouse.connect(target, read_only=True)
        except (duckdb.IOException, EltError) as err:  # busy or unreachable: fall back to declared columns
            log.warning("cannot read the catalog of %s (%s); checking columns against the sources' declared "
                        "schemas", target.name, str(err).splitlines()[0])
        else:
            try:
                catalog = warehouse.raw_catalog(con)
            finally:
                con.close()
    return raw_relations(project, catalog)
