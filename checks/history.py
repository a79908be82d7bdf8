"""Every check of every run, kept in the warehouse: Soda's open-source engine remembers nothing between runs.

`_elt.check_results`: one row per check outcome: the run, when, the model and the version (relation) it
checked, the check, its column, the measured value with its unit, the threshold, the outcome, and whether
the run published. Blocked runs are recorded too: a failure is history as much as a pass.
`_elt.failed_rows`: for each check that did not pass and judges rows (missing, invalid, duplicate,
failed_rows), its full count, the SQL that finds the rows, the top offending values and up to 10 rows.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from checks.failures import FailureDetail
from checks.verify import CheckOutcome
from elt.warehouse import INTERNAL_SCHEMA, Warehouse, append, exists

TABLE = f"{INTERNAL_SCHEMA}.check_results"
SAMPLES = f"{INTERNAL_SCHEMA}.failed_rows"
COLUMNS = ("run_id", "checked_at", "model", "relation", "check_name", "column_name", "outcome", "value", "unit",
           "threshold", "published")
SAMPLE_COLUMNS = ("run_id", "checked_at", "model", "check_name", "column_name", "total", "sql", "offending_values",
                  "sample_columns", "sample_rows")


@dataclass(frozen=True)
class CheckRecord:
    run_id: str
    checked_at: datetime
    model: str
    relation: str
    check: str
    column: str | None
    outcome: str
    value: float | None
    unit: str
    threshold: str
    published: bool

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two records the same check over time."""
        return self.model, self.check, self.column or ""


def record(wh: Warehouse, run_id: str, at: datetime, outcomes: Iterable[CheckOutcome], relations: dict[str, str],
           published: bool) -> None:
    """Keep the run's outcomes; `relations`: model -> the version its checks read."""
    append(wh, TABLE, "run_id varchar not null, checked_at timestamptz not null, model varchar not null, "
           "relation varchar not null, check_name varchar not null, column_name varchar, outcome varchar not null, "
           "value double precision, unit varchar not null, threshold varchar not null, published boolean not null",
           [[run_id, at, o.model, relations.get(o.model, ""), o.check, o.column, o.outcome,
             float(o.value) if isinstance(o.value, (int, float)) and not isinstance(o.value, bool) else None,
             o.unit, o.threshold, published] for o in outcomes])


def recent(wh: Warehouse, models: list[str] | None = None, runs: int = 10) -> list[CheckRecord]:
    """The records of the last `runs` runs that checked anything (of `models`, if given), oldest first."""
    rows = _of_last_runs(wh, TABLE, COLUMNS, models, runs, "checked_at, model, check_name, column_name")
    return [CheckRecord(*row) for row in rows]


def _of_last_runs(wh: Warehouse, table: str, columns: tuple[str, ...], models: list[str] | None, runs: int,
                  order: str) -> list[tuple]:
    """`columns` of `table`'s rows from its last `runs` runs, of `models` if given; none before the first run."""
    if not exists(wh, *table.split(".")):
        return []
    of_models = f"model in ({', '.join(['?'] * len(models))})" if models else "true"
    last = (f"select run_id from {table} where {of_models} group by run_id order by max(checked_at) desc "
            f"limit {int(runs)}")
    return wh.execute(f"select {', '.join(columns)} from {table} where run_id in ({last}) and {of_models} "
                      f"order by {order}", [*(models or []), *(models or [])]).fetchall()


@dataclass(frozen=True)
class FailedRows:
    run_id: str
    checked_at: datetime
    model: str
    check: str
    column: str | None
    total: float | None  # every offending row, as the check counted them
    sql: str
    values: list[list[Any]]  # [value, rows] of the most frequent offending values
    columns: list[str]
    rows: list[list[Any]]  # up to 10 of the rows


def record_samples(wh: Warehouse, run_id: str, at: datetime, details: Iterable[FailureDetail]) -> None:
    append(wh, SAMPLES, "run_id varchar not null, checked_at timestamptz not null, model varchar not null, "
           "check_name varchar not null, column_name varchar, total double precision, sql varchar not null, "
           "offending_values varchar not null, sample_columns varchar not null, sample_rows varchar not null",
           [[run_id, at, d.outcome.model, d.outcome.check, d.outcome.column,
             float(d.outcome.value) if isinstance(d.outcome.value, (int, float)) else None, d.sql,
             _json([[v, n] for v, n in d.values]), _json(d.columns), _json([list(r) for r in d.rows])]
            for d in details if d.sql])


def samples(wh: Warehouse, models: list[str] | None = None, runs: int = 1) -> list[FailedRows]:
    """The failed rows kept by the last `runs` runs that kept any (of `models`, if given), newest first."""
    rows = _of_last_runs(wh, SAMPLES, SAMPLE_COLUMNS, models, runs, "checked_at desc, model, check_name")
    return [FailedRows(*r[:7], json.loads(r[7]), json.loads(r[8]), json.loads(r[9])) for r in rows]


def _json(value: Any) -> str:
    """Values as a person reads them (times, decimals): JSON of their text where JSON has no type for them."""
    return json.dumps(value, default=str)
