"""Freshness SLAs of sources (`freshness_hours` in elt.toml): how old the newest loaded data of each table is.

The age is measured from the table's newest cursor value when it is a time, else from the source's last
successful load. A breach is a check outcome like any other: WARN (reported, published anyway) or, with
`freshness_block = true`, FAILED, so the gate publishes nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from checks.verify import CheckOutcome
from elt.warehouse import Warehouse, exists

CHECK = "freshness_sla"


def freshness_sla(wh: Warehouse, sources: dict[str, Any], loads: list[Any], now: datetime) -> list[CheckOutcome]:
    """One outcome per loaded table with an SLA (its own, else its source's)."""
    outcomes = []
    last_loads: dict[str, datetime | None] = {}  # dataset -> its last successful load, asked once
    for load in loads:
        source = sources[load.source]
        resources = source.options.get("resources") or {}
        tables = sorted(set(load.rows) | set(load.cursors) | set(resources))
        for table in tables:
            resource = resources.get(table)
            sla = (resource.freshness if resource is not None else None) or source.freshness
            if sla is None:
                continue
            newest = _as_time(load.cursors.get(table))
            if newest is None:
                if load.dataset not in last_loads:
                    last_loads[load.dataset] = _last_load(wh, load.dataset)
                newest = last_loads[load.dataset]
            if newest is None:
                continue  # nothing was ever loaded: no age to judge
            age = (now - newest).total_seconds() / 3600
            breached = age > sla.hours
            outcome = "PASSED" if not breached else "FAILED" if sla.block else "WARN"
            outcomes.append(CheckOutcome(load.dataset, CHECK, table, outcome, round(age, 4),
                                         f"< {sla.hours:g} hours" + ("" if sla.block else " (warn)"),
                                         warn_only=not sla.block, unit="hour"))
    return outcomes


def _as_time(value: Any) -> datetime | None:
    try:
        found = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return found if found.tzinfo else found.replace(tzinfo=timezone.utc)


def _last_load(wh: Warehouse, dataset: str) -> datetime | None:
    if not exists(wh, dataset, "_dlt_loads"):
        return None
    found = wh.execute(f"select max(inserted_at) from {dataset}._dlt_loads where status = 0").fetchone()[0]
    return found if found is None or found.tzinfo else found.replace(tzinfo=timezone.utc)
