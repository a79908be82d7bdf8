"""What the warehouse knows about a project, for its docs: the publication in effect, column types, rows, when
each version was built, the checks' recent results and where each source stands. Read only; a warehouse
with no data yet (or one a run holds) gives empty facts and says why.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from checks.history import CheckRecord, recent
from elt import publish, warehouse
from elt.config import Project, Target
from elt.errors import EltError
from elt.warehouse import INTERNAL_SCHEMA, Warehouse
from sources import runner
from sources.dead_letters import DEAD_LETTERS
from transforms.models import Model
from transforms.provenance import TABLE as VERSION_INPUTS

log = logging.getLogger("elt.docs")
CHECK_RUNS = 5  # runs of history shown per check
DEAD_LETTER_ROWS = 5


@dataclass
class Facts:
    note: str = ""  # why there are no facts, when there are none
    publication: publish.Publication | None = None
    types: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # relation -> [(column, type)]
    rows: dict[str, int] = field(default_factory=dict)  # relation in effect -> rows
    built_at: dict[str, datetime] = field(default_factory=dict)  # relation -> when it was built
    checks: dict[str, list[CheckRecord]] = field(default_factory=dict)  # model -> records, oldest first
    sources: dict[str, runner.SourceStatus] = field(default_factory=dict)
    dead_letters: dict[str, list[tuple]] = field(default_factory=dict)  # source -> newest (resource, reason, at)

    def in_effect(self, model: str) -> str | None:
        """The relation the publication in effect points the model at (published or internal)."""
        pub = self.publication
        return (pub.models.get(model) or pub.internal.get(model)) if pub else None


def read(project: Project, target: Target, models: dict[str, Model], wh: Warehouse | None = None) -> Facts:
    """Facts from `wh` if given (the flow's own connection), else from a read-only connection of our own."""
    if wh is not None:
        return _read(project, target, models, wh)
    if not target.runnable:
        return Facts(note=f"target {target.name} is compile-only: no warehouse to read")
    if not warehouse.has_data(target):
        return _without_data(project, target, f"no data yet on target {target.name}: run `elt run` to load, "
                                              "build and publish")
    try:
        own = warehouse.connect(target, read_only=True)
    except EltError as err:  # a run holds the DuckDB file, or Postgres is unreachable: the docs still describe
        log.warning("docs: cannot read %s (%s); the pages say so", target.name, str(err).splitlines()[0])
        return Facts(note=f"target {target.name} could not be read: {str(err).splitlines()[0]}")
    try:
        if target.type == "postgres":
            own.execute("set default_transaction_read_only = on")
        return _read(project, target, models, own)
    finally:
        own.close()


def _without_data(project: Project, target: Target, note: str) -> Facts:
    """Sources' cursors live in dlt's local state, not in the warehouse: still worth showing."""
    return Facts(note=note, sources={name: runner.status(project, source, target)
                                     for name, source in project.sources.items()})


def _read(project: Project, target: Target, models: dict[str, Model], wh: Warehouse) -> Facts:
    facts = Facts(publication=publish.current(wh))
    if facts.publication is None:
        facts.note = f"nothing published on target {target.name} yet: run `elt run`"
    relations = {name: facts.in_effect(name) for name in models if facts.in_effect(name)}
    facts.types = _types(wh, {INTERNAL_SCHEMA, *(s.dataset for s in project.sources.values())})
    for name, relation in relations.items():
        if models[name].materialized != "view":  # a view's count runs its whole query: left to the reader
            facts.rows[relation] = wh.execute(f"select count(*) from {relation}").fetchone()[0]
    if relations and warehouse.exists(wh, INTERNAL_SCHEMA, VERSION_INPUTS.split(".")[1]):
        marks = ", ".join("?" for _ in relations)
        facts.built_at = dict(wh.execute(f"select relation, max(built_at) from {VERSION_INPUTS} where relation in "
                                         f"({marks}) group by relation", list(relations.values())).fetchall())
    for record in recent(wh, None, CHECK_RUNS):
        facts.checks.setdefault(record.model, []).append(record)
    for name, source in project.sources.items():
        facts.sources[name] = runner.status(project, source, target, wh)
        if facts.sources[name].rows.get(DEAD_LETTERS):
            facts.dead_letters[name] = wh.execute(
                f"select resource, reason, rejected_at from {source.dataset}.{DEAD_LETTERS} "
                f"order by rejected_at desc limit {DEAD_LETTER_ROWS}").fetchall()
    return facts


def _types(wh: Warehouse, schemas: set[str]) -> dict[str, list[tuple[str, str]]]:
    """Columns and types of every relation in these schemas, in one catalog query."""
    marks = ", ".join("?" for _ in schemas)
    found: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, kind in wh.execute(
            "select table_schema, table_name, column_name, data_type from information_schema.columns "
            f"where table_schema in ({marks}) order by table_schema, table_name, ordinal_position",
            sorted(schemas)).fetchall():
        found.setdefault(f"{schema}.{table}".lower(), []).append((column.lower(), kind))
    return found
