"""Build models into versioned candidate relations (`_elt.<model>__<key>`) that no consumer reads.

The key covers the model's fingerprint, its upstream keys and the load versions of the raw tables it
reads (transitively), so an existing relation with the same key is identical and is not rebuilt.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from elt.errors import EltError
from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists
from transforms.compile import compile_model
from transforms.fingerprint import fingerprint, version_key
from transforms.models import Model

log = logging.getLogger("elt.transforms")


@dataclass(frozen=True)
class Version:
    """The relation one model's current inputs and SQL resolve to."""

    model: str
    fingerprint: str
    key: str
    materialized: str

    @property
    def table(self) -> str:
        return f"{self.model}__{self.key}"

    @property
    def relation(self) -> str:
        return f"{INTERNAL_SCHEMA}.{self.table}"


@dataclass(frozen=True)
class BuildResult:
    model: str
    relation: str  # what publishes: the whole candidate
    materialized: str
    status: str  # "built" or "skipped"
    seconds: float
    rows: int | None
    audit: str = ""  # what the contract verifies: the relation, or only the new rows of an incremental model

    @property
    def audited(self) -> str:
        return self.audit or self.relation


def raw_load_version(wh: Warehouse, table: str) -> str:
    """The latest dlt load that wrote to a raw table: it changes exactly when the table's rows do."""
    schema, name = table.split(".")
    if not exists(wh, schema, name):
        raise EltError(f"raw table {table} does not exist in the warehouse",
                       hint="run extraction first (elt run, or elt extract)")
    row = wh.execute(f'select max(_dlt_load_id) from "{schema}"."{name}"').fetchone()
    return f"{table}@{row[0]}"


def plan_versions(wh: Warehouse, models: dict[str, Model], order: list[str]) -> dict[str, Version]:
    """Version of every model, upstream first (`order` must be topological)."""
    versions: dict[str, Version] = {}
    raw_versions: dict[str, str] = {}
    for name in order:
        model = models[name]
        ups = [versions[u] for u in model.model_refs]
        for ref in model.refs:
            if ref.schema and ref.key not in raw_versions:
                raw_versions[ref.key] = raw_load_version(wh, ref.key)
        inputs = [u.key for u in ups] + [raw_versions[r.key] for r in model.refs if r.schema]
        fp = fingerprint(model, [u.fingerprint for u in ups])
        versions[name] = Version(name, fp, version_key(fp, inputs), model.materialized)
    return versions


def build_model(wh: Warehouse, model: Model, versions: dict[str, Version]) -> BuildResult:
    """Create the model's candidate relation unless one with the same key already exists."""
    version = versions[model.name]
    started = time.perf_counter()
    if exists(wh, INTERNAL_SCHEMA, version.table):
        return BuildResult(model.name, version.relation, version.materialized, "skipped", 0.0, None)
    sql = compile_model(model, wh.dialect, {m: versions[m].relation for m in model.model_refs})
    kind = "table" if version.materialized == "table" else "view"
    wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
    try:
        wh.execute(f"create {kind} {version.relation} as {sql}")
    except Exception as err:  # the engine's message is what the author needs; keep it, add the model
        raise EltError(f"model {model.name} failed to build: {err}", where=model.location(),
                       hint="fix the model SQL; nothing was published") from err
    rows = wh.execute(f"select count(*) from {version.relation}").fetchone()[0] if kind == "table" else None
    seconds = time.perf_counter() - started
    log.info("built %s as %s %s in %.2fs", model.name, kind, version.relation, seconds)
    return BuildResult(model.name, version.relation, version.materialized, "built", seconds, rows)
