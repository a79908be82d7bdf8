"""Publishing: point stable names (`analytics.<model>`) at versioned relations, record it, roll back.

All names of one publication move in ONE transaction (DuckDB has transactional DDL), so a reader sees
all-old or all-new. Rollback is a pointer move to an earlier publication; nothing is recomputed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from elt.errors import PublishError
from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists

HISTORY = f"{INTERNAL_SCHEMA}.publications"
META = f"{INTERNAL_SCHEMA}.meta"
LAYOUT_VERSION = "1"  # bump when the tables below change shape, with a migration
POINTERS = f"{INTERNAL_SCHEMA}.publication_models"


@dataclass(frozen=True)
class Publication:
    id: int
    run_id: str
    published_at: datetime
    kind: str  # "publish" or "rollback"
    restores: int | None  # for a rollback: the publication it points back to
    models: dict[str, str]  # published model -> relation, read by consumers as <schema>.<model>
    summary: dict[str, Any]
    internal: dict[str, str] = field(default_factory=dict)  # unpublished models the published ones read

    @property
    def relations(self) -> set[str]:
        return set(self.models.values()) | set(self.internal.values())


def ensure_tables(wh: Warehouse) -> None:
    wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
    wh.execute(f"create table if not exists {META} (key varchar primary key, value varchar not null)")
    wh.execute(f"insert into {META} values ('layout_version', ?) on conflict do nothing", [LAYOUT_VERSION])
    _check_layout(wh)
    wh.execute(f"""create table if not exists {HISTORY} (
        id integer primary key, run_id varchar not null, published_at timestamptz not null,
        kind varchar not null, restores integer, summary json)""")
    wh.execute(f"""create table if not exists {POINTERS} (
        publication_id integer not null, model varchar not null, relation varchar not null,
        published boolean not null)""")


def _check_layout(wh: Warehouse) -> None:
    found = wh.execute(f"select value from {META} where key = 'layout_version'").fetchone()[0]
    if found != LAYOUT_VERSION:
        raise PublishError(f"the warehouse's publication records have layout {found}; this toolkit reads "
                           f"layout {LAYOUT_VERSION}", hint="use the toolkit version that wrote them")


def history(wh: Warehouse, limit: int | None = None) -> list[Publication]:
    """Publications, newest first; reads only, so a read-only connection will do."""
    if not exists(wh, INTERNAL_SCHEMA, HISTORY.split(".")[1]):
        return []
    _check_layout(wh)
    newest = f"select id from {HISTORY} order by id desc" + (f" limit {int(limit)}" if limit else "")
    rows = wh.execute(f"select id, run_id, published_at, kind, restores, summary from {HISTORY} "
                      f"where id in ({newest}) order by id desc").fetchall()
    pointers: dict[tuple[int, bool], dict[str, str]] = {}
    for pub_id, model, relation, public in wh.execute(
            f"select publication_id, model, relation, published from {POINTERS} "
            f"where publication_id in ({newest}) order by model").fetchall():
        pointers.setdefault((pub_id, public), {})[model] = relation
    return [Publication(r[0], r[1], r[2], r[3], r[4], pointers.get((r[0], True), {}), _summary(r[5]),
                        pointers.get((r[0], False), {}))
            for r in rows]


def _summary(value: Any) -> dict[str, Any]:
    """DuckDB hands JSON back as text, psycopg as Python objects."""
    return json.loads(value) if isinstance(value, str) else value or {}


def current(wh: Warehouse) -> Publication | None:
    latest = history(wh, limit=1)
    return latest[0] if latest else None


def _point(wh: Warehouse, schema: str, models: dict[str, str], previous: dict[str, str]) -> None:
    """Re-point views inside the caller's transaction; names that left the project are dropped.

    Drop and create rather than CREATE OR REPLACE: Postgres refuses to replace a view whose columns changed.
    """
    wh.execute(f"create schema if not exists {schema}")
    for model, relation in sorted(models.items()):
        if previous.get(model) != relation:
            wh.execute(f"drop view if exists {schema}.{model}")
            wh.execute(f"create view {schema}.{model} as select * from {relation}")
    for model in sorted(set(previous) - set(models)):
        wh.execute(f"drop view if exists {schema}.{model}")


def _record(wh: Warehouse, run_id: str, kind: str, restores: int | None, models: dict[str, str],
            internal: dict[str, str], summary: dict[str, Any]) -> Publication:
    next_id = wh.execute(f"select coalesce(max(id), 0) + 1 from {HISTORY}").fetchone()[0]
    wh.execute(f"insert into {HISTORY} values (?, ?, now(), ?, ?, ?)",
                [next_id, run_id, kind, restores, json.dumps(summary)])
    wh.executemany(f"insert into {POINTERS} values (?, ?, ?, ?)",
                    [[next_id, model, relation, True] for model, relation in sorted(models.items())]
                    + [[next_id, model, relation, False] for model, relation in sorted(internal.items())])
    return history(wh, limit=1)[0]


def publish(wh: Warehouse, schema: str, run_id: str, models: dict[str, str], summary: dict[str, Any],
            internal: dict[str, str] | None = None) -> Publication | None:
    """Make `models` (model -> relation) the published state; None when nothing changed.

    `internal` are versions the published ones read (views over views): recorded so the janitor keeps them.
    """
    ensure_tables(wh)
    internal = internal or {}
    before = current(wh)
    previous = before.models if before else {}
    if before and (before.models, before.internal) == (models, internal):
        return None
    with wh.transaction():
        _point(wh, schema, models, previous)
        publication = _record(wh, run_id, "publish", None, models, internal, summary)
    return publication


def rollback(wh: Warehouse, schema: str, run_id: str) -> Publication:
    """Point every name back at the publication before the one now in effect, in one transaction."""
    ensure_tables(wh)
    pubs = history(wh)
    if not pubs:
        raise PublishError("nothing has been published yet", hint="run the pipeline first")
    stack = _effective_stack(pubs)
    if len(stack) < 2:
        raise PublishError(f"publication {stack[-1]} is the first one: there is nothing to roll back to",
                           hint="see elt history")
    target = next(p for p in pubs if p.id == stack[-2])
    missing = sorted(r for r in target.relations if not _relation_exists(wh, r))
    if missing:
        raise PublishError(f"publication {target.id} can no longer be restored: {', '.join(missing)} were dropped",
                           hint="raise keep_publications in elt.toml to keep more versions")
    with wh.transaction():
        _point(wh, schema, target.models, pubs[0].models)
        publication = _record(wh, run_id, "rollback", target.id, target.models, target.internal,
                              {"restored_publication": target.id, "from_publication": pubs[0].id})
    return publication


def _effective_stack(pubs: list[Publication]) -> list[int]:
    """Ids of the publications that led to the state in effect, oldest first; rollbacks pop what they undid."""
    stack: list[int] = []
    for pub in sorted(pubs, key=lambda p: p.id):
        if pub.kind == "publish":
            stack.append(pub.id)
        else:
            while stack and stack[-1] != pub.restores:
                stack.pop()
    return stack


def _relation_exists(wh: Warehouse, relation: str) -> bool:
    return exists(wh, *relation.split("."))


def janitor(wh: Warehouse, keep: int, protect: set[str]) -> list[str]:
    """Drop versions no longer referenced by the last `keep` publications (and not in `protect`)."""
    recent = history(wh, limit=keep)
    wanted = {r for p in recent for r in p.relations} | protect
    if not recent:
        return []
    rows = wh.execute("select table_name, table_type from information_schema.tables where table_schema = ?",
                       [INTERNAL_SCHEMA]).fetchall()
    dropped = []
    for name, kind in rows:
        relation = f"{INTERNAL_SCHEMA}.{name}"
        if "__" not in name or relation in wanted:
            continue
        # Views first: a dropped table under a live view would break it; CASCADE is not needed then.
        dropped.append((0 if kind == "VIEW" else 1, relation, "view" if kind == "VIEW" else "table"))
    for _, relation, kind in sorted(dropped):
        wh.execute(f"drop {kind} if exists {relation}")
    return [relation for _, relation, _ in sorted(dropped)]
