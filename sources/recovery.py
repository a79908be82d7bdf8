"""Completing what a killed run left behind, before anything new is extracted.

dlt keeps a killed run's load packages on disk (the cursor travels inside them) and finishes them on
the next run. Two gaps in dlt 1.31 are closed here:
- a kill between normalize's rename of a package and the deletion of its input leaves the package both
  extracted and normalized; normalizing it again fails for ever ("Directory not empty"). The normalized
  copy is complete (the rename is atomic), so the extracted one is dropped.
- a load job that committed but was killed before dlt recorded it runs again: harmless for merge and
  replace tables, a second copy of its rows in append tables. Append tables with a primary key (and the
  dead letters, keyed by their sequence number) keep one row per key of the resumed package.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import dlt

from elt.config import Source
from sources.dead_letters import DEAD_LETTERS

log = logging.getLogger("elt.sources")
ROW_ID = {"duckdb": "rowid", "postgres": "ctid"}  # a physical row identity, to keep one of two copies


def complete_pending(pipeline: dlt.Pipeline, source: Source) -> int:
    """Normalize and load the pending packages; returns how many were loaded."""
    if not pipeline.has_pending_data:
        return 0
    normalized = set(pipeline.list_normalized_load_packages())
    for load_id in normalized & set(pipeline.list_extracted_load_packages()):
        shutil.rmtree(Path(pipeline.working_dir) / "normalize" / "extracted" / load_id)
    pipeline.normalize()
    load_ids = pipeline.list_normalized_load_packages()
    if not load_ids:  # killed before dlt saved the package's schema: the run starts over, nothing was lost
        return 0
    log.warning("source %s: completing %d pending load package(s) of an interrupted run", source.name,
                len(load_ids))
    pipeline.load()
    _drop_second_copies(pipeline, source, load_ids)
    return len(load_ids)


def _drop_second_copies(pipeline: dlt.Pipeline, source: Source, load_ids: list[str]) -> None:
    keyed = {spec.name: spec.primary_key for spec in source.options.get("resources", {}).values()
             if spec.write_disposition == "append" and spec.primary_key}
    keyed[DEAD_LETTERS] = ("seq",)
    row_id = ROW_ID[pipeline.destination.destination_name]
    with pipeline.sql_client() as client:
        for table, key in keyed.items():
            exists = client.execute_sql("select count(*) from information_schema.tables where table_schema = %s "
                                        "and table_name = %s", pipeline.dataset_name, table)[0][0]
            if not exists:
                continue
            name = client.make_qualified_table_name(table)
            columns = ", ".join(client.escape_column_name(column) for column in key)
            for load_id in load_ids:
                client.execute_sql(
                    f"delete from {name} where _dlt_load_id = %s and {row_id} not in "
                    f"(select min({row_id}) from {name} where _dlt_load_id = %s group by {columns})",
                    load_id, load_id)
