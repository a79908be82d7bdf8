"""`materialized: incremental`: one storage table per model version, grown by audited batches.

Each run that finds new rows in the model's driver evaluates the model over them only (delta.py) and
writes the result into the storage as batch N+1: rows stamped `_elt_batch = N+1`; with a unique key,
the rows they replace are stamped `_elt_superseded = N+1` rather than deleted. No consumer sees it yet:
the published name reads the view `<storage>_b<N>`, which shows the rows of batches <= N not superseded
by then. The contract verifies the delta (`<storage>_d<N+1>`), and publication re-points the names at
`<storage>_b<N+1>` in its one transaction. Rollback points back at `_b<N>`: the rows are still there.
A run that finds batches above the published one (a blocked gate, a rollback, a kill) forgets them
first, so those loads are read again. The janitor deletes rows no kept publication can see (`compact`).

A change to the SQL, the keys, the upstream SQL or the output columns gives a new fingerprint: the
model is then built in full into a new storage, as is `elt run --full-refresh MODEL`.
"""
from __future__ import annotations

import json
import logging
import re
import time
from typing import Any

from elt.errors import EltError
from elt.publish import META, Publication
from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists
from transforms.compile import compile_model
from transforms.fingerprint import version_key
from transforms.materialize import delta
from transforms.materialize.common import BuildResult, Version, elapsed, run_model_sql, versioned
from transforms.models import Model

log = logging.getLogger("elt.transforms")
BATCHES = f"{INTERNAL_SCHEMA}.batches"  # one row per batch written: how far into its driver it had read
STORAGE = "@storage"  # publication pointer `<model>@storage` keeps the storage table while a batch view is kept
BATCH_VIEW = re.compile(r"^(?P<storage>.+)_b(?P<batch>\d+)$")


def plan(versions, wh: Warehouse, model: Model, fingerprint: str, inputs: list[str]) -> Version:
    """Extend the published storage by one batch if its driver has new rows, or start a new storage."""
    root = delta.root_driver(model, versions.models)
    if not versions.read_only:
        ensure_tables(wh)  # here, not in build: concurrent builds would race to create it (Postgres refuses)
        if wh.target.type == "postgres" and root not in versions.models:
            _index_loads(wh, root)
    position = _position(versions, root)
    columns = versions.columns.get(model.name)
    storage_fp = version_key(fingerprint, [",".join(columns) if columns else "?"])
    storage, base, found = _published(wh, versions, model.name)
    if found is not None and found["fingerprint"] == storage_fp and model.name not in versions.full_refresh \
            and _same_driver(found["position"], position):
        batch = base if found["position"] == position else base + 1
        return Version(model.name, storage_fp, f"{storage}_b{batch}", model.materialized, storage, batch, base,
                       position)
    storage = versioned(model.name, version_key(storage_fp, [versions.run_id or str(time.time())]))
    return Version(model.name, storage_fp, f"{storage}_b1", model.materialized, storage, 1, 0, position)


def build(wh: Warehouse, model: Model, version: Version, versions) -> BuildResult:
    started = time.perf_counter()
    if version.batch == version.base_batch and exists(wh, INTERNAL_SCHEMA, version.table):
        return BuildResult(model.name, version.relation, version.materialized, "skipped", 0.0, None)
    relations = {name: v.relation for name, v in versions.items()}
    shape = delta.shape_of(model, versions.models)
    with wh.transaction():
        if version.base_batch == 0:
            sql = compile_model(model, wh.dialect, relations)
            wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
            run_model_sql(wh, model, f"create table {version.storage} as select _elt_q.*, "
                                     f"cast(1 as bigint) as {delta.BATCH}, cast(null as bigint) as {delta.SUPERSEDED} "
                                     f"from ({sql}) as _elt_q")
            if wh.target.type == "postgres":  # rows of one batch and rows of one key are found by index
                wh.execute(f"create index on {version.storage} ({delta.BATCH})")
                if shape.keys:
                    wh.execute(f"create index on {version.storage} ({', '.join(shape.keys)})")
                # Without statistics the planner takes a fresh table for a few thousand rows and joins the
                # next delta's keys by a nested loop over all of it (2.4 s instead of 0.3 s at 2M rows).
                wh.execute(f"analyze {version.storage}")
        else:
            _forget_after(wh, version.storage, version.base_batch)
            since = _recorded(wh, version.storage, version.base_batch)["position"]
            new_rows = _root_rows(wh, versions, delta.root_driver(model, versions.models), since)
            delta_ast, keys_ast = delta.model_delta(model, versions.models, delta.driver_rows(model, versions.models,
                                                                                              new_rows))
            delta_sql = _compiled(model, delta_ast, wh.dialect, relations)
            _check_columns(wh, model, version, delta_sql)
            run_model_sql(wh, model, f"insert into {version.storage} select _elt_q.*, {version.batch}, null "
                                     f"from ({delta_sql}) as _elt_q")
            if keys_ast is not None:
                _supersede(wh, model, version, shape.keys, _compiled(model, keys_ast, wh.dialect, relations))
        columns = ", ".join(_columns(wh, version.storage))
        wh.execute(f"create or replace view {version.relation} as select {columns} from {version.storage} "
                   f"where {delta.visible(version.batch)}")
        audit = f"{version.storage}_d{version.batch}"
        wh.execute(f"create or replace view {audit} as select {columns} from {version.storage} "
                   f"where {delta.BATCH} = {version.batch}")
        rows = wh.execute(f"select count(*) from {audit}").fetchone()[0]
        wh.execute(f"insert into {BATCHES} values (?, ?, ?, ?, ?, ?, now())",
                   [version.storage, model.name, version.batch, version.fingerprint,
                    json.dumps(version.watermark, sort_keys=True), rows])
    how = "in full" if version.base_batch == 0 else f"batch {version.batch}: {rows} new or changed rows"
    log.info("built %s (%s) into %s in %.2fs", model.name, how, version.storage, elapsed(started))
    # A delta that only retired rows has nothing to audit row by row: the contract checks the whole candidate.
    return BuildResult(model.name, version.relation, version.materialized, "built", elapsed(started), rows,
                       audit=audit if rows else version.relation, note=how)


def _supersede(wh: Warehouse, model: Model, version: Version, keys: dict[str, str], keys_sql: str) -> None:
    """Stamp the rows whose key the delta's driver rows carry as replaced by this batch.

    The keys go into a small temporary table first: joined to it (with its statistics), the engines probe
    the storage by key rather than scanning it against the raw table once per stored row.
    """
    scratch = f"_elt_keys_{model.name}"
    wh.execute(f"drop table if exists {scratch}")
    run_model_sql(wh, model, f"create temporary table {scratch} as {keys_sql}")
    if wh.target.type == "postgres":
        wh.execute(f"analyze {scratch}")
    run_model_sql(wh, model, f"update {version.storage} set {delta.SUPERSEDED} = {version.batch} "
                             f"where {delta.BATCH} < {version.batch} and {delta.SUPERSEDED} is null "
                             f"and {delta.key_condition(keys, f'select * from {scratch}')}")
    wh.execute(f"drop table {scratch}")


def storage_pointers(versions) -> dict[str, str]:
    """`<model>@storage -> storage table` for each incremental version: published with it, kept with it."""
    return {f"{name}{STORAGE}": v.storage for name, v in versions.items() if v.storage}


def compact(wh: Warehouse, kept: list[Publication]) -> int:
    """Delete rows that no kept publication shows: superseded at or before the oldest kept batch."""
    oldest: dict[str, int] = {}
    for publication in kept:
        storages = {r for m, r in publication.internal.items() if m.endswith(STORAGE)}
        for relation in publication.relations:
            found = BATCH_VIEW.match(relation)
            if found and found["storage"] in storages:
                batch = int(found["batch"])
                oldest[found["storage"]] = min(batch, oldest.get(found["storage"], batch))
    deleted = 0
    for storage, batch in sorted(oldest.items()):
        done = f"compacted {storage}"  # through which batch: a scan of the storage only when that moves
        row = wh.execute(f"select value from {META} where key = ?", [done]).fetchone()
        if (row and int(row[0]) >= batch) or not exists(wh, *storage.split(".")):
            continue
        with wh.transaction():
            deleted += wh.execute(f"delete from {storage} where {delta.SUPERSEDED} <= {batch}").rowcount or 0
            wh.execute(f"delete from {META} where key = ?", [done])
            wh.execute(f"insert into {META} values (?, ?)", [done, str(batch)])
    return deleted


def ensure_tables(wh: Warehouse) -> None:
    wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
    wh.execute(f"""create table if not exists {BATCHES} (
        storage varchar not null, model varchar not null, batch integer not null, fingerprint varchar not null,
        position varchar not null, rows bigint not null, built_at timestamptz not null)""")


def _position(versions, root: str) -> dict[str, Any]:
    """How far the root driver has got: its newest load, or an upstream incremental model's batch."""
    if root in versions.models:
        upstream = versions[root]
        return {"driver": root, "storage": upstream.storage, "batch": upstream.batch}
    return {"driver": root, "load_id": versions.raw_loads.get(root)}


def _index_loads(wh: Warehouse, table: str) -> None:
    """Postgres finds the newest loads of a raw table by index (DuckDB's zone maps do it unasked)."""
    schema, name = table.split(".")
    wh.execute(f'create index if not exists "{name[:40]}__elt_load_id" on "{schema}"."{name}" ({delta.LOAD_ID})')


def _same_driver(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The recorded position can be continued from: same driver, and an upstream model's same storage."""
    return a.get("driver") == b.get("driver") and a.get("storage") == b.get("storage")


def _published(wh: Warehouse, versions, name: str) -> tuple[str, int, dict[str, Any] | None]:
    """(storage, batch, its record) of the version in effect, or ("", 0, None) when it is not incremental."""
    storage = versions.published.get(f"{name}{STORAGE}", "")
    found = BATCH_VIEW.match(versions.published.get(name, ""))
    if not storage or not found or found["storage"] != storage or not exists(wh, *storage.split(".")):
        return "", 0, None
    return storage, int(found["batch"]), _recorded(wh, storage, int(found["batch"]))


def _recorded(wh: Warehouse, storage: str, batch: int) -> dict[str, Any] | None:
    row = wh.execute(f"select fingerprint, position from {BATCHES} where storage = ? and batch = ?",
                     [storage, batch]).fetchone()
    return {"fingerprint": row[0], "position": json.loads(row[1])} if row else None


def _forget_after(wh: Warehouse, storage: str, batch: int) -> None:
    """Undo batches no publication in effect shows (a blocked gate, a rollback, a killed run)."""
    later = wh.execute(f"select count(*) from {BATCHES} where storage = ? and batch > ?", [storage, batch])
    if not later.fetchone()[0]:
        return  # a batch's rows and its record commit together: no record, no rows (and no scan)
    wh.execute(f"delete from {storage} where {delta.BATCH} > {batch}")
    wh.execute(f"update {storage} set {delta.SUPERSEDED} = null where {delta.SUPERSEDED} > {batch}")
    wh.execute(f"delete from {BATCHES} where storage = ? and batch > ?", [storage, batch])


def _root_rows(wh: Warehouse, versions, root: str, since: dict[str, Any]):
    if root in versions.models:
        upstream = versions[root]
        return delta.batch_rows_after(upstream.storage, _columns(wh, upstream.storage), since.get("batch", 0),
                                      upstream.batch)
    return delta.raw_rows_after(root, since.get("load_id"))


def _compiled(model: Model, ast, dialect: str, relations: dict[str, str]) -> str:
    return compile_model(Model(**{**model.__dict__, "ast": ast}), dialect, relations)


def _columns(wh: Warehouse, relation: str) -> list[str]:
    """Columns of a relation in order, without the batch bookkeeping."""
    cursor = wh.execute(f"select * from {relation} where 1 = 0")
    return [d[0] for d in cursor.description if d[0] not in (delta.BATCH, delta.SUPERSEDED)]


def _check_columns(wh: Warehouse, model: Model, version: Version, delta_sql: str) -> None:
    probe = run_model_sql(wh, model, f"select * from ({delta_sql}) as _elt_q where 1 = 0")
    produced = [d[0] for d in probe.description]
    stored = _columns(wh, version.storage)
    if produced != stored:
        raise EltError(f"model {model.name} now produces columns {', '.join(produced)} but its storage holds "
                       f"{', '.join(stored)}", where=model.location(),
                       hint=f"run `elt run --full-refresh {model.name}` to rebuild it in full")
