"""`materialized: view`: a view over its inputs' versions; nothing is stored, so nothing to audit but the view."""
from __future__ import annotations

import logging
import time

from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists
from transforms.compile import compile_model
from transforms.fingerprint import version_key
from transforms.materialize.common import BuildResult, Version, elapsed, run_model_sql, versioned
from transforms.models import Model

log = logging.getLogger("elt.transforms")
KIND = "view"


def plan(context, wh: Warehouse, model: Model, fingerprint: str, inputs: list[str]) -> Version:
    """A version keyed by the SQL and every input's version: equal keys mean an identical relation."""
    return Version(model.name, fingerprint, versioned(model.name, version_key(fingerprint, inputs)),
                   model.materialized)


def build(wh: Warehouse, model: Model, version: Version, context) -> BuildResult:
    return create(wh, model, version, context, KIND)


def create(wh: Warehouse, model: Model, version: Version, context, kind: str) -> BuildResult:
    """Create the version's relation as a view or a table, unless a relation with its key exists."""
    started = time.perf_counter()
    if exists(wh, INTERNAL_SCHEMA, version.table):
        return BuildResult(model.name, version.relation, version.materialized, "skipped", 0.0, None)
    sql = compile_model(model, wh.dialect, context.relations_for(model))
    wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
    run_model_sql(wh, model, f"create {kind} {version.relation} as {sql}")
    rows = wh.execute(f"select count(*) from {version.relation}").fetchone()[0] if kind == "table" else None
    log.info("built %s as %s %s in %.2fs", model.name, kind, version.relation, elapsed(started))
    return BuildResult(model.name, version.relation, version.materialized, "built", elapsed(started), rows)
