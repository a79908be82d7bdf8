"""What every materialization shares: the version a model resolves to, a build's result, creating relations."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from elt.errors import EltError
from elt.warehouse import INTERNAL_SCHEMA, Warehouse
from transforms.models import Model


@dataclass(frozen=True)
class Version:
    """The relation one model's current inputs and SQL resolve to."""

    model: str
    fingerprint: str
    relation: str  # `_elt.<model>__<key>`: what downstream models read and what publishes
    materialized: str
    storage: str = ""  # incremental: the table holding every batch; the relation is a view of one batch
    batch: int = 0  # incremental: the batch this version shows
    base_batch: int = 0  # incremental: the published batch it extends (0: built in full)
    watermark: dict[str, Any] = field(default_factory=dict)  # incremental: how far into its driver it has read
    sql_key: str = ""  # the model's own SQL and config (transforms.fingerprint.own_key)
    inputs: tuple[str, ...] = ()  # the versions of what it reads: upstream relations, `raw.table@load_id`

    @property
    def table(self) -> str:
        return self.relation.split(".", 1)[1]


@dataclass(frozen=True)
class BuildResult:
    model: str
    relation: str  # what publishes: the whole candidate
    materialized: str
    status: str  # "built" or "skipped"
    seconds: float
    rows: int | None
    audit: str = ""  # what the contract verifies: the relation, or only the new rows of an incremental model
    note: str = ""  # how it was built, where that is not obvious ("batch 2: 113 new or changed rows")

    @property
    def audited(self) -> str:
        return self.audit or self.relation


def versioned(model: str, key: str) -> str:
    return f"{INTERNAL_SCHEMA}.{model}__{key}"


def run_model_sql(wh: Warehouse, model: Model, statement: str, params: list | None = None) -> Any:
    """Execute SQL derived from a model, naming the model when the engine refuses it."""
    try:
        return wh.execute(statement, params)
    except Exception as err:  # the engine's message is what the author needs; keep it, add the model
        raise EltError(f"model {model.name} failed to build: {err}", where=model.location(),
                       hint="fix the model SQL; nothing was published") from err


def elapsed(started: float) -> float:
    return time.perf_counter() - started
