"""Plan and build model versions into relations no consumer reads (`_elt.<model>__<key>`).

Planning resolves every model, upstream first, to the version its SQL and inputs call for; building
creates what does not exist yet. How is each materialization's business (transforms/materialize/).
"""
from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace

from elt.errors import EltError
from elt.publish import Publication
from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists
from transforms import materialize, provenance
from transforms.fingerprint import fingerprint, own_key, own_parts
from transforms.materialize import incremental
from transforms.materialize.common import BuildResult, Version
from transforms.models import Model
from transforms.schema import Relations

__all__ = ["BuildResult", "Version", "Versions", "build_model", "check_full_refresh", "compact", "model_of",
           "plan_versions", "raw_load_id"]


@dataclass
class Versions(Mapping[str, Version]):
    """Model -> Version for one run, with what planning knew (materializations read it again to build)."""

    models: dict[str, Model]
    columns: Relations = field(default_factory=dict)  # each model's output columns, as lint derived them
    published: dict[str, str] = field(default_factory=dict)  # what the publication in effect points at
    full_refresh: frozenset[str] = frozenset()
    run_id: str = ""
    by_model: dict[str, Version] = field(default_factory=dict)
    raw_loads: dict[str, str | None] = field(default_factory=dict)  # raw table -> newest _dlt_load_id
    read_only: bool = False  # a plan that writes nothing (`elt plan`): no tables created, no indexes

    def __getitem__(self, name: str) -> Version:
        return self.by_model[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.by_model)

    def __len__(self) -> int:
        return len(self.by_model)

    def relations(self) -> dict[str, str]:
        """What a publication of these versions points at: each model's relation, and storage they read."""
        return {name: v.relation for name, v in self.by_model.items()} | incremental.storage_pointers(self)

    def relations_for(self, model: Model) -> dict[str, str]:
        """Where each model it reads is, for compiling its SQL."""
        return {m: self.by_model[m].relation for m in model.model_refs if m in self.by_model}


def raw_load_id(wh: Warehouse, table: str) -> str | None:
    """The latest dlt load that wrote to a raw table: it changes exactly when the table's rows do."""
    schema, name = table.split(".")
    if not exists(wh, schema, name):
        raise EltError(f"raw table {table} does not exist in the warehouse",
                       hint="run extraction first (elt run, or elt extract)")
    return wh.execute(f'select max(_dlt_load_id) from "{schema}"."{name}"').fetchone()[0]


def plan_versions(wh: Warehouse, models: dict[str, Model], order: list[str], columns: Relations | None = None,
                  published: dict[str, str] | None = None, full_refresh: set[str] | frozenset[str] = frozenset(),
                  run_id: str = "", read_only: bool = False) -> Versions:
    """Version of every model in `order` (topological), each from its SQL and its inputs' versions."""
    versions = Versions(models, columns or {}, published or {}, frozenset(full_refresh), run_id, read_only=read_only)
    if not read_only:  # once, before builds run side by side
        wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
        provenance.ensure_table(wh)
    for name in order:
        model = models[name]
        ups = [versions[u] for u in model.model_refs if u in versions]
        for ref in model.refs:
            if ref.schema and ref.key not in versions.raw_loads:
                versions.raw_loads[ref.key] = raw_load_id(wh, ref.key)
        inputs = [u.relation for u in ups] + [f"{r.key}@{versions.raw_loads[r.key]}" for r in model.refs if r.schema]
        parts = own_parts(model)
        fp = fingerprint(model, [u.fingerprint for u in ups], parts)
        version = materialize.of(model.materialized).plan(versions, wh, model, fp, inputs)
        versions.by_model[name] = replace(version, sql_key=own_key(parts), inputs=tuple(sorted(inputs)))
    return versions


def build_model(wh: Warehouse, model: Model, versions: Versions) -> BuildResult:
    """Create the model's version unless it exists already."""
    result = materialize.of(model.materialized).build(wh, model, versions[model.name], versions)
    if result.status == "built":
        provenance.record(wh, versions[model.name])
    return result


def check_full_refresh(models: dict[str, Model], names: list[str]) -> None:
    """`--full-refresh` names incremental models: every other kind is rebuilt whenever its inputs change."""
    for name in names:
        if name not in models:
            raise EltError(f"--full-refresh {name}: no such model", hint=f"models: {', '.join(sorted(models))}")
        if models[name].materialized != "incremental":
            raise EltError(f"--full-refresh {name}: it is a {models[name].materialized} model, rebuilt whenever "
                           "its SQL or inputs change", hint="name an incremental model")


def model_of(pointer: str) -> str:
    """The model a publication pointer belongs to (`orders`, or `orders@storage` for its storage)."""
    return pointer.split("@", 1)[0]


def compact(wh: Warehouse, kept: list[Publication]) -> None:
    """After the janitor: drop rows of incremental storage that no kept publication shows."""
    incremental.compact(wh, kept)
