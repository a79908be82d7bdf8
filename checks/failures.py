"""What is behind a failed check: where the contract says it, the SQL that finds the offending rows, the
offending values with their counts, and a few of the rows — so a blocked publication says why, not only
how many.

Soda reports a count. For the checks that judge rows (missing, invalid, duplicate, failed_rows) the same
rule is written here as a query over the relation that was verified; checks of the whole relation
(row_count, freshness, schema, aggregates) have no rows to show and say what was measured.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checks.contract_sql import resolve_refs
from checks.contracts import Contract
from checks.verify import CheckOutcome
from elt.errors import Location

log = logging.getLogger("elt.checks")
SAMPLE = 10  # offending values and rows shown per check
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: a tenth of the pure-Python parser's time


@dataclass(frozen=True)
class FailureDetail:
    outcome: CheckOutcome
    where: Location | None  # the check in its contract file
    sql: str = ""  # finds the offending rows ("" for checks of the whole relation)
    values: list[tuple[Any, int]] = field(default_factory=list)  # offending value -> rows holding it, top SAMPLE
    columns: list[str] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)  # up to SAMPLE offending rows


def explain(wh: Any, contract: Contract, outcome: CheckOutcome, relation: str,
            refs: dict[str, str] | None = None) -> FailureDetail:
    """The detail of one failed check, read from `relation` (what was verified); a query the warehouse
    refuses leaves the SQL and location without values or rows."""
    found = _find(contract, outcome)
    where = _location(contract.path, found[0]) if found else None
    if found is None:
        return FailureDetail(outcome, where)
    sql, column = _offending_rows(found[1], found[2], outcome.column, relation, refs or {}, wh.target.type)
    if not sql:
        return FailureDetail(outcome, where)
    try:
        result = wh.execute(f"select * from ({sql}) as _elt_failed limit {SAMPLE}")
        columns = [d[0] for d in result.description]
        rows = [tuple(r) for r in result.fetchall()]
        values = []
        if column:
            values = [(v, int(n)) for v, n in wh.execute(
                f"select {column}, count(*) from ({sql}) as _elt_failed group by {column} "
                f"order by count(*) desc, {column} limit {SAMPLE}").fetchall()]
    except Exception as err:  # the gate's own result stands; the detail is a help
        log.warning("%s: could not read the rows behind %s: %s", outcome.model, outcome.check,
                    str(err).splitlines()[0] if str(err) else type(err).__name__)
        return FailureDetail(outcome, where, sql)
    return FailureDetail(outcome, where, sql, values, columns, rows)


def _find(contract: Contract, outcome: CheckOutcome) -> tuple[list[Any], str, dict] | None:
    """(key path of the check's list item, kind, body) of the contract's check behind `outcome`."""
    kind, _, qualifier = outcome.check.partition("[")
    qualifier = qualifier.rstrip("]") or None
    places: list[tuple[list[Any], list]] = []
    for i, column in enumerate(contract.document.get("columns") or []):
        if isinstance(column, dict) and outcome.column and column.get("name", "").lower() == outcome.column.lower():
            places.append((["columns", i, "checks"], column.get("checks") or []))
    places.append((["checks"], contract.document.get("checks") or []))
    for path, checks in places:
        for j, item in enumerate(checks):
            if not isinstance(item, dict) or kind not in item:
                continue
            body = item[kind] or {}
            if (str(body["qualifier"]) if "qualifier" in body else None) == qualifier:
                return [*path, j], kind, body
    return None


def _offending_rows(kind: str, body: dict, column: str | None, relation: str, refs: dict[str, str],
                    engine: str) -> tuple[str, str]:
    """(SQL selecting the offending rows, the column whose values to count) for a check that judges rows."""
    if kind == "failed_rows":
        if "query" in body:
            return resolve_refs(body["query"], refs, relation), ""
        return f"select * from {relation}\nwhere {resolve_refs(body.get('expression', ''), refs, relation)}", ""
    if not column:
        return "", ""
    quoted = f'"{column}"'
    if kind == "missing":
        rule = f"{quoted} is null" + (f" or {quoted} in ({_values(body['missing_values'])})"
                                      if body.get("missing_values") else "")
        return f"select * from {relation}\nwhere {rule}", ""
    if kind == "duplicate":
        return (f"select * from {relation}\nwhere {quoted} in (select {quoted} from {relation} "
                f"where {quoted} is not null group by {quoted} having count(*) > 1)"), quoted
    if kind == "invalid":
        rules = _invalid_rules(body, quoted, engine)
        return (f"select * from {relation}\nwhere {quoted} is not null and ({' or '.join(rules)})", quoted) if rules \
            else ("", "")
    return "", ""


def _invalid_rules(body: dict, col: str, engine: str) -> list[str]:
    """A row is invalid when any rule says so (Soda: the value is not valid by every `valid_*`)."""
    rules = []
    if body.get("valid_values"):
        rules.append(f"{col} not in ({_values(body['valid_values'])})")
    if body.get("invalid_values"):
        rules.append(f"{col} in ({_values(body['invalid_values'])})")
    if "valid_min" in body:
        rules.append(f"{col} < {body['valid_min']}")
    if "valid_max" in body:
        rules.append(f"{col} > {body['valid_max']}")
    for key, op in (("valid_length", "<>"), ("valid_min_length", "<"), ("valid_max_length", ">")):
        if key in body:
            rules.append(f"length(cast({col} as varchar)) {op} {int(body[key])}")
    for key, negate in (("valid_format", True), ("invalid_format", False)):
        regex = (body.get(key) or {}).get("regex") if isinstance(body.get(key), dict) else None
        if regex:
            matches = f"regexp_matches(cast({col} as varchar), {_literal(regex)})" if engine == "duckdb" \
                else f"cast({col} as varchar) ~ {_literal(regex)}"
            rules.append(f"not {matches}" if negate else matches)
    return rules


def _literal(value: Any) -> str:
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else \
        "'" + str(value).replace("'", "''") + "'"


def _values(values: list) -> str:
    return ", ".join(_literal(v) for v in values)


def _location(path: Path, keys: list[Any]) -> Location:
    """File, line and column of the check at `keys` in the contract's YAML."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
        for k in keys:
            if isinstance(node, yaml.SequenceNode):
                node = node.value[k]
            else:
                node = next(value for key, value in node.value if key.value == k)
        mark = node.start_mark
        return Location(path, mark.line + 1, mark.column + 1)
    except (OSError, yaml.YAMLError, StopIteration, IndexError, AttributeError):
        return Location(path)
