"""Columns of the raw tables, for lint and planning: as loaded (the warehouse's catalog), else as declared.

Without dlt: `elt lint`, `compile` and `show` read columns, they do not extract.
"""
from __future__ import annotations

import logging

import duckdb

from elt import warehouse
from elt.config import Project, Source, Target
from elt.errors import EltError

log = logging.getLogger("elt.sources")

DLT_COLUMNS = {"_dlt_load_id": "VARCHAR"}
SQL_TYPES = {"bigint": "BIGINT", "double": "DOUBLE", "text": "VARCHAR", "boolean": "BOOLEAN",
             "timestamp": "TIMESTAMPTZ", "date": "DATE", "json": "JSON"}


def declared_tables(source: Source) -> dict[str, dict[str, str]]:
    """Columns each table of the source will have once loaded (lint needs them before the first load)."""
    if source.kind == "demo_shop":
        from sources.shop_schema import SCHEMAS  # pyarrow: only for the demo

        sql_types = {"int64": "BIGINT", "string": "VARCHAR", "double": "DOUBLE",
                     "timestamp[us, tz=UTC]": "TIMESTAMPTZ"}
        return {table: {f.name: sql_types[str(f.type)] for f in schema} | DLT_COLUMNS
                for table, schema in SCHEMAS.items()}
    resources = source.options["resources"]
    tables = {}
    for name, spec in resources.items():
        if spec.columns:
            tables[name] = {column: SQL_TYPES[kind] for column, kind in spec.columns.items()}
            if parent := spec.options.get("parent"):  # REST children carry the parent's key (sources/rest.py)
                kind = resources[parent["resource"]].columns.get(parent["field"], "text")
                tables[name][f"_{parent['resource']}_{parent['field']}"] = SQL_TYPES[kind]
            tables[name] |= DLT_COLUMNS
    return tables


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
