"""Verify contracts against candidate relations with Soda Core v4, in process, on the run's connection.

A contract is written for a model; at verification it is retargeted at the model's candidate version
(`dataset:` rewritten, `${var.RELATION}` declared for SQL in `query:` checks, each `${ref.MODEL}` replaced by
the version of MODEL published with it), so the same file checks whatever is about to be published.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterator

import yaml
from pydantic import SecretStr

from checks.contract_sql import RELATION, resolve_refs
from checks.contracts import Contract
from elt.errors import EltError
from elt.warehouse import Warehouse

DATA_SOURCE = "warehouse"


class _OneLine(logging.Filter):
    """Soda logs a query the warehouse refused with the SQL, the database's caret diagram and two chained
    tracebacks, through the root logger to the console. One line says it: what Soda was doing and the
    database's first line. The record is shortened, not dropped: Soda counts the errors it captures to
    decide what to run. `elt --debug` keeps the whole record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING and not logging.getLogger("elt").isEnabledFor(logging.DEBUG):
            record.msg, record.args = _one_line(record), ()
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def _one_line(record: logging.LogRecord) -> str:
    """What Soda was doing (its message's first line) and why (the exception's first line)."""
    lines = record.getMessage().strip().splitlines()
    what = lines[0].rstrip(" :") if lines else ""
    cause = str(record.exc_info[1]).strip().splitlines() if record.exc_info and record.exc_info[1] else []
    why = cause[0] if cause else ""
    return f"{what}: {why}" if what and why and why not in what else what or why


# Soda logs a full results table per contract at INFO; the gate report says the same in one line per check.
logging.getLogger("soda").setLevel(logging.WARNING)
logging.getLogger("soda").addFilter(_OneLine())


@dataclass(frozen=True)
class CheckOutcome:
    """One check's result, in the terms a person needs: what, where, measured, threshold, outcome."""

    model: str
    check: str
    column: str | None
    outcome: str  # PASSED, WARN, FAILED, NOT_EVALUATED, ERROR
    value: float | int | None
    threshold: str
    warn_only: bool = False
    unit: str = ""  # of the value and the threshold, as the contract wrote it (freshness: hour, minute, day)

    @property
    def shown_value(self) -> str:
        """The measured value as a person reads it (freshness ages are long floats), with its unit."""
        shown = f"{self.value:.4g}" if isinstance(self.value, float) else repr(self.value)
        return f"{shown} {self.unit}s" if self.unit and self.value is not None else shown

    @property
    def passed(self) -> bool:
        return self.outcome == "PASSED" or (self.outcome == "WARN" and self.warn_only)


def retarget(wh: Warehouse, contract: Contract, relation: str, refs: dict[str, str] | None = None) -> str:
    """The contract's YAML pointed at `relation` (`schema.table`) in the warehouse, `${ref.MODEL}` at
    `refs[MODEL]`.

    Soda names a dataset `source/schema/table` on DuckDB but `source/database/schema/table` on Postgres; a
    wrong part count silently skips the schema check.
    """
    schema, table = relation.split(".")
    document = _resolved(contract.document, refs or {})
    database = [wh.raw.info.dbname] if wh.target.type == "postgres" else []
    document["dataset"] = "/".join([DATA_SOURCE, *database, schema, table])
    document["variables"] = {RELATION: {"default": relation}}
    return yaml.safe_dump(document, sort_keys=False)


@contextmanager
def data_source(wh: Warehouse) -> Iterator[Any]:
    """Soda's data source for the warehouse, derived from the same target definition as everything else.

    DuckDB: the run's own connection (opening the file a second time fails). Postgres: Soda's own psycopg
    connection from the target's DSN; the password travels as a pydantic SecretStr and is never logged.
    """
    if wh.target.type == "duckdb":
        from soda_duckdb.common.data_sources.duckdb_data_source import DuckDBDataSourceImpl

        yield DuckDBDataSourceImpl.from_existing_cursor(wh.raw, name=DATA_SOURCE)
        return
    if wh.target.type != "postgres":
        raise EltError(f"target {wh.target.name} ({wh.target.type}) cannot be verified from here")
    # Imported here: a DuckDB run does not pay for psycopg and Soda's Postgres plugin (~0.15 s).
    from psycopg.conninfo import conninfo_to_dict
    from soda_postgres.common.data_sources.postgres_data_source import PostgresDataSourceImpl
    from soda_postgres.common.data_sources.postgres_data_source_connection import PostgresDataSource

    info = conninfo_to_dict(wh.target.dsn())
    source = PostgresDataSourceImpl(data_source_model=PostgresDataSource(name=DATA_SOURCE, connection={
        "host": info.get("host", "localhost"), "port": int(info.get("port") or 5432), "database": info["dbname"],
        "user": info.get("user", ""), "password": SecretStr(info.get("password", "")),
        "sslmode": info.get("sslmode", "prefer")}))
    try:
        yield source
    finally:
        source.close_connection()


def preload() -> None:
    """Import Soda now (~0.6 s), in the calling thread: before worker threads start verifying, which would
    otherwise wait on the import lock inside their tasks. Runs with nothing to verify never call it."""
    import soda_core.contracts.contract_verification  # noqa: F401


def _resolved(value: Any, refs: dict[str, str]) -> Any:
    if isinstance(value, str):
        return resolve_refs(value, refs)
    if isinstance(value, dict):
        return {key: _resolved(item, refs) for key, item in value.items()}
    return [_resolved(item, refs) for item in value] if isinstance(value, list) else value


def verify(wh: Warehouse, contract: Contract, relation: str, now: datetime | None = None,
           refs: dict[str, str] | None = None) -> list[CheckOutcome]:
    """Run one contract against one relation; errors become ERROR outcomes, never a silent pass.

    `refs`: model -> the relation of its version published with `relation` (the contract's `${ref.MODEL}`).
    """
    # Imported here, not at the top: Soda costs ~0.7 s of imports, and a run with nothing to verify needs none.
    from soda_core.common.yaml import ContractYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    missing = sorted(contract.refs - set(refs or {}))
    if missing:
        return [CheckOutcome(contract.model, "contract", None, "ERROR", None,
                             f"it reads ${{ref.{m}}}, and {m} has no version built or published on this target")
                for m in missing]
    with data_source(wh) as source:
        session = ContractVerificationSession.execute(
            contract_yaml_sources=[ContractYamlSource.from_str(retarget(wh, contract, relation, refs))],
            data_source_impls=[source],
            data_timestamp=now.isoformat() if now else None,
        )
    outcomes: list[CheckOutcome] = []
    for result in session.contract_verification_results:
        for check_result in result.check_results:
            check = check_result.check
            threshold = check.threshold
            warn = bool(threshold and threshold.level == "warn")
            unit = _freshness_unit(contract, check.qualifier) if check.type == "freshness" else ""
            outcomes.append(CheckOutcome(
                model=contract.model,
                check=check.type + (f"[{check.qualifier}]" if check.qualifier else ""),
                column=check.column_name or _dataset_check_column(check),
                outcome=check_result.outcome.name,
                value=check_result.threshold_value,
                threshold=_describe(threshold, unit),
                warn_only=warn,
                unit=unit,
            ))
        for error in result.get_errors():
            outcomes.append(CheckOutcome(contract.model, "contract", None, "ERROR", None, wh.target.redact(str(error))))
    if not outcomes and contract.volume_change is None:  # the volume check is the caller's (checks/volume.py)
        outcomes.append(CheckOutcome(contract.model, "contract", None, "ERROR", None, "no check was evaluated"))
    return outcomes


def verify_build(wh: Warehouse, contract: Contract, audited: str, now: datetime | None = None,
                 candidate: str = "", refs: dict[str, str] | None = None) -> list[CheckOutcome]:
    """The contract against what a build produced (`BuildResult.audited`): a whole candidate, or a delta.

    A delta's rows are checked by Soda on their own; a value a `duplicate` check forbids twice must also be
    new against the rest of the `candidate` it joins, which Soda cannot see from the delta: checked here.
    """
    outcomes = verify(wh, contract, audited, now, refs)
    if candidate and candidate != audited:
        outcomes += [_duplicates_against(wh, contract.model, audited, candidate, columns)
                     for columns in _duplicate_columns(contract)]
    return outcomes


def _duplicate_columns(contract: Contract) -> list[tuple[str, ...]]:
    """The column sets the contract's `duplicate` checks keep unique."""
    found = [(column["name"],) for column in contract.document.get("columns") or []
             for check in column.get("checks") or [] if isinstance(check, dict) and "duplicate" in check]
    found += [tuple((check["duplicate"] or {}).get("columns") or ()) for check in contract.document.get("checks") or []
              if isinstance(check, dict) and "duplicate" in check]
    return [columns for columns in found if columns]


def _duplicates_against(wh: Warehouse, model: str, delta: str, candidate: str,
                        columns: tuple[str, ...]) -> CheckOutcome:
    """Rows of the candidate, beyond the delta's own, that hold a key of the delta (duplicates within the delta
    are Soda's `duplicate` check on the delta)."""
    keys = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
    present = " and ".join(f"{c} is not null" for c in columns)
    # Probe the candidate with the delta's keys (a semi join): the delta is small, the candidate is not.
    holders, own = wh.execute(f"select (select count(*) from {candidate} where {keys} in (select {', '.join(columns)} "
                              f"from {delta})), (select count(*) from {delta} where {present})").fetchone()
    clashes = int(holders) - int(own)
    return CheckOutcome(model, "duplicate[against earlier rows]", ", ".join(columns),
                        "PASSED" if clashes == 0 else "FAILED", clashes, "= 0")


def _freshness_unit(contract: Contract, qualifier: Any) -> str:
    """The unit a freshness check's threshold is written in (Soda's default: hour)."""
    for item in contract.document.get("checks") or []:
        body = item.get("freshness") if isinstance(item, dict) else None
        if isinstance(body, dict) and body.get("qualifier") == qualifier:
            return str((body.get("threshold") or {}).get("unit", "hour"))
    return "hour"


def _dataset_check_column(check: Any) -> str | None:
    """Dataset-level checks (freshness) name their column only inside their YAML definition."""
    definition = yaml.safe_load(check.definition or "") or {}
    items = definition.get("checks") if isinstance(definition, dict) else None
    first = items[0] if items else None
    return first.get("column") if isinstance(first, dict) else None


def _describe(threshold: Any, unit: str = "") -> str:
    if threshold is None:
        return ""
    words = {"must_be": "=", "must_not_be": "!=", "must_be_greater_than": ">", "must_be_greater_than_or_equal": ">=",
             "must_be_less_than": "<", "must_be_less_than_or_equal": "<="}
    parts = [f"{op} {getattr(threshold, key)}" for key, op in words.items()
             if getattr(threshold, key, None) is not None]
    return " and ".join(parts) + (f" {unit}s" if unit else "") + (" (warn)" if threshold.level == "warn" else "")
