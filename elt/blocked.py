"""Runs that published nothing because a check failed or a model did not build, kept so `elt history` shows
them between the publications, with what failed.

`_elt.blocked_runs`: one row per blocked run: the run, when, why (`gate` or `build`), one line per failure,
and the versions it built (`elt verify --last-build` checks them again after a contract fix).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from elt.warehouse import INTERNAL_SCHEMA, Warehouse, append, exists

TABLE = f"{INTERNAL_SCHEMA}.blocked_runs"


@dataclass(frozen=True)
class BlockedRun:
    run_id: str
    blocked_at: datetime
    reason: str  # "gate": a check did not pass; "build": a model did not build
    failures: list[str]
    candidates: dict[str, list[str]]  # model -> [its version's relation, what its contract checked]


def record(wh: Warehouse, run: BlockedRun) -> None:
    append(wh, TABLE, "run_id varchar not null, blocked_at timestamptz not null, reason varchar not null, "
           "failures varchar not null, candidates varchar not null",
           [[run.run_id, run.blocked_at, run.reason, json.dumps(run.failures), json.dumps(run.candidates)]])


def recent(wh: Warehouse, limit: int | None = None) -> list[BlockedRun]:
    """Blocked runs, newest first; reads only."""
    if not exists(wh, INTERNAL_SCHEMA, TABLE.split(".")[1]):
        return []
    rows = wh.execute(f"select run_id, blocked_at, reason, failures, candidates from {TABLE} "
                      "order by blocked_at desc" + (f" limit {int(limit)}" if limit else "")).fetchall()
    return [BlockedRun(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4])) for r in rows]
