"""What each built version was made from, so that a plan can say why a model would be built again.

Every version a run builds is recorded with the key of its own SQL and the inputs it read (the versions
of the models upstream, the newest dlt load of each raw table). Comparing a planned version with the
record of the version in effect names the reason: its SQL changed, an upstream model changed, new loads
arrived in a raw table, or new rows for an incremental model.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists
from transforms.materialize.common import Version

TABLE = f"{INTERNAL_SCHEMA}.version_inputs"


@dataclass(frozen=True)
class Step:
    """What a run would do with one model, and why."""

    model: str
    materialized: str
    action: str  # "build", "add rows" (an incremental batch) or "unchanged"
    reason: str
    relation: str  # the version it would publish


def ensure_table(wh: Warehouse) -> None:
    wh.execute(f"create table if not exists {TABLE} (relation varchar not null, model varchar not null, "
               "sql_key varchar not null, inputs varchar not null, built_at timestamptz not null)")


def record(wh: Warehouse, version: Version) -> None:
    wh.execute(f"insert into {TABLE} values (?, ?, ?, ?, now())",
               [version.relation, version.model, version.sql_key, json.dumps(list(version.inputs))])


def recorded(wh: Warehouse, relations: list[str]) -> dict[str, tuple[str, list[str]]]:
    """relation -> (sql key, inputs) for those of `relations` built since records were kept; read-only."""
    if not relations or not exists(wh, INTERNAL_SCHEMA, TABLE.split(".")[1]):
        return {}
    marks = ", ".join("?" for _ in relations)
    rows = wh.execute(f"select relation, sql_key, inputs from {TABLE} where relation in ({marks})",
                      relations).fetchall()
    return {relation: (key, json.loads(inputs)) for relation, key, inputs in rows}


def step(version: Version, in_effect: str | None, record_: tuple[str, list[str]] | None,
         full_refresh: bool) -> Step:
    """The action for a planned version against the one in effect, with its reason in a person's words."""
    def made(action: str, reason: str) -> Step:
        return Step(version.model, version.materialized, action, reason, version.relation)

    if in_effect == version.relation:
        return made("unchanged", "the published version is current")
    if in_effect is None:
        return made("build", "not published yet")
    if version.base_batch and version.batch == version.base_batch + 1:
        driver = version.watermark.get("driver", "its driver")
        return made("add rows", f"new rows in {driver}: batch {version.batch} on top of batch {version.base_batch}")
    if full_refresh:
        return made("build", "--full-refresh")
    if record_ is None:
        return made("build", "its inputs changed (the version in effect was built before reasons were recorded)")
    sql_key, inputs = record_
    if sql_key != version.sql_key:
        return made("build", "its SQL or config changed")
    models = sorted({_model_of(i) for i in version.inputs if "@" not in i and i not in inputs})
    raw = sorted({i.split("@")[0] for i in version.inputs if "@" in i and i not in inputs})
    reasons = ([f"upstream {', '.join(models)} changed"] if models else []) + \
        ([f"new loads in {', '.join(raw)}"] if raw else [])
    return made("build", "; ".join(reasons) or "its output columns changed")


def _model_of(relation: str) -> str:
    """`_elt.orders__<key>` (or an incremental batch view `..._b3`) -> `orders`."""
    return relation.split(".", 1)[-1].rsplit("__", 1)[0]
