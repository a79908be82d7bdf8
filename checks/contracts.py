"""Load Soda v4 contracts and validate them strictly before use.

Soda ignores unknown keys and falls back to default thresholds on misspelled ones, so a typo
can turn a check into one that always passes. Every key is checked here, with the file and key path in
the message, and every column a contract names must be one the model produces.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from elt.errors import ContractError, Location

TOP_KEYS = ("dataset", "description", "columns", "checks", "filter")
COLUMN_KEYS = ("name", "description", "data_type", "character_maximum_length", "optional", "checks")
COMMON = ("name", "qualifier", "attributes", "threshold", "filter")
COLUMN_CHECKS = {
    "missing": COMMON + ("missing_values", "missing_format"),
    "invalid": COMMON + ("valid_values", "valid_format", "invalid_values", "invalid_format", "valid_length",
                         "valid_min_length", "valid_max_length", "valid_min", "valid_max"),
    "duplicate": COMMON,
    "aggregate": COMMON + ("function",),
}
DATASET_CHECKS = {
    "row_count": COMMON,
    "schema": COMMON + ("allow_extra_columns", "allow_other_column_order"),
    "freshness": ("name", "qualifier", "attributes", "threshold", "filter", "column"),
    "duplicate": COMMON + ("columns",),
    "metric": ("name", "qualifier", "attributes", "threshold", "expression", "query"),
    "failed_rows": ("name", "qualifier", "attributes", "threshold", "expression", "query"),
}
THRESHOLD_KEYS = ("metric", "must_be", "must_not_be", "must_be_greater_than", "must_be_greater_than_or_equal",
                  "must_be_less_than", "must_be_less_than_or_equal", "must_be_between", "must_be_not_between",
                  "level")
COMPARISONS = THRESHOLD_KEYS[1:9]
REQUIRED_THRESHOLD = ("freshness", "aggregate", "metric")
INVALID_NEEDS = ("valid_values", "valid_format", "invalid_values", "invalid_format", "valid_length",
                 "valid_min_length", "valid_max_length", "valid_min", "valid_max")


@dataclass(frozen=True)
class Contract:
    """A validated contract for one model; `document` is the parsed YAML, retargeted at verification."""

    model: str
    path: Path
    document: dict[str, Any]

    @property
    def check_count(self) -> int:
        columns = self.document.get("columns") or []
        return len(self.document.get("checks") or []) + sum(len(c.get("checks") or []) for c in columns)


def discover(contracts_dir: Path) -> list[Path]:
    return sorted([*contracts_dir.glob("*.yml"), *contracts_dir.glob("*.yaml")])


def load_contracts(contracts_dir: Path, outputs: dict[str, list[str] | None]) -> dict[str, Contract]:
    """Every contract, validated against the columns its model produces (`outputs`: model -> columns)."""
    contracts = {}
    for path in discover(contracts_dir):
        contract = load_contract(path, outputs)
        contracts[contract.model] = contract
    return contracts


def load_contract(path: Path, outputs: dict[str, list[str] | None]) -> Contract:
    model = path.stem.lower()
    if model not in outputs:
        raise ContractError(f"no model named {model}", where=Location(path),
                            hint="name the contract file after the model it checks, e.g. orders.yml")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ContractError(f"invalid YAML: {getattr(err, 'problem', err)}",
                            where=Location(path, mark.line + 1 if mark else None, mark.column + 1 if mark else None),
                            hint="fix the YAML syntax") from None
    _Validator(path, outputs[model]).contract(document)
    return Contract(model=model, path=path, document=document)


class _Validator:
    def __init__(self, path: Path, columns: list[str] | None) -> None:
        self.path, self.columns = path, columns

    def fail(self, key: str, message: str, hint: str | None = None) -> ContractError:
        return ContractError(message, where=Location(self.path, key=key), hint=hint)

    def keys(self, mapping: Any, allowed: tuple[str, ...], where: str) -> dict:
        if not isinstance(mapping, dict):
            raise self.fail(where, f"expected a mapping, got {type(mapping).__name__}")
        for key in mapping:
            if key not in allowed:
                raise self.fail(f"{where}.{key}" if where else key, "unknown key",
                                hint=f"valid keys here: {', '.join(allowed)}")
        return mapping

    def column_exists(self, name: Any, where: str) -> None:
        if not isinstance(name, str):
            raise self.fail(where, "expected a column name")
        if self.columns is not None and name.lower() not in self.columns:
            raise self.fail(where, f"the model does not produce a column {name!r}",
                            hint=f"its columns: {', '.join(self.columns)}")

    def contract(self, doc: Any) -> None:
        self.keys(doc, TOP_KEYS, "")
        columns = doc.get("columns")
        if not isinstance(columns, list) or not columns:
            raise self.fail("columns", "a contract needs a non-empty list of columns")
        for i, column in enumerate(columns):
            where = f"columns[{i}]"
            self.keys(column, COLUMN_KEYS, where)
            self.column_exists(column.get("name"), f"{where}.name")
            self.check_list(column.get("checks") or [], f"{where}.checks", COLUMN_CHECKS)
        self.check_list(doc.get("checks") or [], "checks", DATASET_CHECKS)

    def check_list(self, checks: Any, where: str, kinds: dict[str, tuple[str, ...]]) -> None:
        if not isinstance(checks, list):
            raise self.fail(where, "expected a list of checks")
        seen: set[tuple[str, Any]] = set()
        for i, item in enumerate(checks):
            at = f"{where}[{i}]"
            if not isinstance(item, dict) or len(item) != 1:
                raise self.fail(at, "each check is a mapping with one key, the check type")
            kind, body = next(iter(item.items()))
            if kind not in kinds:
                raise self.fail(f"{at}.{kind}", f"unknown check type {kind!r}",
                                hint=f"valid here: {', '.join(kinds)}")
            body = self.keys(body if body is not None else {}, kinds[kind], f"{at}.{kind}")
            identity = (kind, body.get("qualifier"))
            if identity in seen:
                raise self.fail(f"{at}.{kind}", f"a second {kind} check here needs a distinct qualifier",
                                hint="add `qualifier: <name>` to one of them")
            seen.add(identity)
            self.check_body(kind, body, f"{at}.{kind}")

    def check_body(self, kind: str, body: dict, where: str) -> None:
        if "threshold" in body:
            self.threshold(body["threshold"], f"{where}.threshold", kind)
        elif kind in REQUIRED_THRESHOLD:
            raise self.fail(f"{where}.threshold", f"a {kind} check needs a threshold")
        if kind == "freshness":
            self.column_exists(body.get("column"), f"{where}.column")
        if kind == "duplicate" and "columns" in body:
            cols = body["columns"]
            if not isinstance(cols, list) or not cols:
                raise self.fail(f"{where}.columns", "expected a non-empty list of column names")
            for j, col in enumerate(cols):
                self.column_exists(col, f"{where}.columns[{j}]")
        if kind == "invalid" and not any(k in body for k in INVALID_NEEDS):
            raise self.fail(where, "an invalid check needs a validity rule", hint=f"one of: {', '.join(INVALID_NEEDS)}")
        if kind in ("metric", "failed_rows") and not ("query" in body or "expression" in body):
            raise self.fail(where, f"a {kind} check needs `query` or `expression`")

    def threshold(self, threshold: Any, where: str, kind: str) -> None:
        allowed = THRESHOLD_KEYS + (("unit",) if kind == "freshness" else ())
        self.keys(threshold, allowed, where)
        if not any(k in threshold for k in COMPARISONS):
            raise self.fail(where, "a threshold needs a comparison", hint=f"one of: {', '.join(COMPARISONS)}")
        if threshold.get("level", "fail") not in ("fail", "warn"):
            raise self.fail(f"{where}.level", "level must be fail or warn")
        if kind == "freshness" and threshold.get("unit", "hour") not in ("minute", "hour", "day"):
            raise self.fail(f"{where}.unit", "unit must be minute, hour or day")
        for key in COMPARISONS:
            value = threshold.get(key)
            if key in threshold and key.endswith("between"):
                self.keys(value, ("greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal"),
                          f"{where}.{key}")
            elif key in threshold and (isinstance(value, bool) or not isinstance(value, (int, float))):
                raise self.fail(f"{where}.{key}", f"expected a number, got {value!r}")
