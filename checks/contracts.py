"""Load Soda v4 contracts and validate them strictly before use.

Soda ignores unknown keys, falls back to default thresholds on misspelled ones, only logs a value of the
wrong type, and YAML keeps the last of two equal keys: a typo can turn a check into one that always passes.
Every key and value is checked here, with the file and key path in the message, and every column a
contract names must be one the model produces; the caller may lint the SQL of checks like a model's.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Iterator

import yaml

from checks.contract_sql import as_written, for_lint, reads_candidate, refs, syntax_error, unknown_variable
from elt.errors import ContractError, Location
from elt.textfile import read_utf8

TOP_KEYS = ("dataset", "description", "columns", "checks", "filter", "elt")
# The toolkit's own checks, in a section of their own that Soda ignores (it keeps nothing between runs, so it
# cannot compare a candidate with the version published now): `volume_change: 0.2` fails a candidate whose
# row count moved more than ±20 % from the published version's.
TOOLKIT_KEYS = ("volume_change",)
COLUMN_KEYS = ("name", "description", "data_type", "character_maximum_length", "optional", "checks")
COMMON = ("name", "qualifier", "attributes", "threshold", "filter")
# dbt's generic tests, for people porting a project: what each is called in a Soda v4 contract.
DBT_TESTS = {
    "unique": "dbt's `unique` is `duplicate` here (a column check: `- duplicate:`)",
    "not_null": "dbt's `not_null` is `missing` here (a column check: `- missing:`)",
    "accepted_values": "dbt's `accepted_values` is `invalid` here: `- invalid: {valid_values: [...]}`",
    "relationships": "dbt's `relationships` is a failed_rows query here, reading the other model as "
                     "${ref.MODEL}: `- failed_rows: {query: select * from ${var.RELATION} o where not exists "
                     "(select 1 from ${ref.customers} c where c.customer_id = o.customer_id)}`",
}
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
BOUNDS = ("greater_than", "greater_than_or_equal", "less_than", "less_than_or_equal")
METRICS = ("count", "percent")
METRIC_KINDS = ("missing", "invalid", "duplicate", "failed_rows")  # Soda refuses `metric` on the others
AGGREGATE_FUNCTIONS = ("avg", "avg_length", "max", "min", "max_length", "min_length", "sum", "avglength",
                       "maxlength", "minlength")  # soda_core SqlDialect.supports_function


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# (test, what it must be, what to do). Soda reads each key as one type (soda_core.contracts.impl.contract_yaml)
# and only logs another: the check then runs without the rule, or is not evaluated.
TEXT = (lambda v: isinstance(v, str), "a string", "quote the value")
SCALAR = (lambda v: isinstance(v, (str, int)) and not isinstance(v, bool), "a string or a whole number",
          "e.g. qualifier: amount_positive")
NUMBER = (_number, "a number", "write the number without quotes")
COUNT = (_count, "a whole number, 0 or more", "e.g. valid_length: 2")
FLAG = (lambda v: isinstance(v, bool), "true or false", "write true or false, without quotes")
MAPPING = (lambda v: isinstance(v, dict), "a mapping", "indent its keys under it")
TYPES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    "dataset": TEXT, "description": TEXT, "name": TEXT, "data_type": TEXT, "function": TEXT, "filter": TEXT,
    "expression": TEXT, "query": TEXT, "qualifier": SCALAR, "attributes": MAPPING, "optional": FLAG,
    "allow_extra_columns": FLAG, "allow_other_column_order": FLAG, "valid_min": NUMBER, "valid_max": NUMBER,
    "character_maximum_length": COUNT, "valid_length": COUNT, "valid_min_length": COUNT, "valid_max_length": COUNT,
}
VALUE_LISTS = ("missing_values", "valid_values", "invalid_values")
FORMATS = ("missing_format", "valid_format", "invalid_format")  # {name: ..., regex: ...}
SQL_KINDS = {"query": "query", "expression": "expression", "filter": "expression"}
# (SQL, relation name -> the model it stands for) -> problems: lint of a check's SQL, given by the caller
# (the lint rules live in transforms/, which this package does not import).
LintQuery = Callable[[str, dict[str, str]], list[str]]


@dataclass(frozen=True)
class Contract:
    """A validated contract for one model; `document` is the parsed YAML, retargeted at verification."""

    model: str
    path: Path
    document: dict[str, Any]

    @cached_property  # asked for every model of every run (scheduling, digests): walked once
    def refs(self) -> set[str]:
        """The other models its SQL reads (${ref.NAME}): verified against the versions published with it."""
        return {name for _, text in _strings(self.document, "") for name in refs(text)}

    @property
    def volume_change(self) -> float | None:
        """The largest change of the row count from the published version that passes (0.2: ±20 %)."""
        return (self.document.get("elt") or {}).get("volume_change")

    @property
    def check_count(self) -> int:
        columns = self.document.get("columns") or []
        return (len(self.document.get("checks") or []) + sum(len(c.get("checks") or []) for c in columns)
                + (self.volume_change is not None))


def discover(contracts_dir: Path) -> list[Path]:
    return sorted([*contracts_dir.glob("*.yml"), *contracts_dir.glob("*.yaml")])


def load_contracts(contracts_dir: Path, outputs: dict[str, list[str] | None], dialect: str = "duckdb",
                   lint_query: LintQuery | None = None) -> dict[str, Contract]:
    """Every contract, validated against the columns its model produces (`outputs`: model -> columns).

    `dialect`: the warehouse's, in which the SQL of `query:` checks runs as written. `lint_query`: checks the
    tables and columns of the SQL in `query`, `expression` and `filter`.
    """
    contracts: dict[str, Contract] = {}
    for path in discover(contracts_dir):
        contract = load_contract(path, outputs, dialect, lint_query)
        if contract.model in contracts:  # orders.yml and orders.yaml: one would silently replace the other
            raise ContractError(f"a second contract for model {contract.model} (the first: "
                                f"{contracts[contract.model].path.name})", where=Location(path),
                                hint="merge them into one file")
        contracts[contract.model] = contract
    return contracts


def load_contract(path: Path, outputs: dict[str, list[str] | None], dialect: str = "duckdb",
                  lint_query: LintQuery | None = None) -> Contract:
    model = path.stem.lower()
    if model not in outputs:
        raise ContractError(f"no model named {model}", where=Location(path),
                            hint="name the contract file after the model it checks, e.g. orders.yml")
    try:
        document = yaml.load(read_utf8(path, ContractError), Loader=_Loader)  # a SafeLoader
    except _DuplicateKey as err:
        raise ContractError(err.problem, where=Location(path, err.problem_mark.line + 1, err.problem_mark.column + 1),
                            hint="keep one of them: YAML silently uses the last") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise ContractError(f"invalid YAML: {getattr(err, 'problem', err)}",
                            where=Location(path, mark.line + 1 if mark else None, mark.column + 1 if mark else None),
                            hint="fix the YAML syntax") from None
    _Validator(path, model, outputs, dialect, lint_query).contract(document)
    return Contract(model=model, path=path, document=document)


class _DuplicateKey(yaml.constructor.ConstructorError):
    """The same key twice in one mapping."""


class _Loader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys without a word: a second `threshold:` would replace the first."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in first:
                raise _DuplicateKey(None, None, f"duplicate key {key!r} (first at line "
                                    f"{first[key].start_mark.line + 1})", key_node.start_mark)
            first[key] = key_node
        return super().construct_mapping(node, deep)


def _strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    """(key path, text) of every string in the document: Soda resolves variables in all of them."""
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{where}[{i}]")


def _kind(value: Any) -> str:
    """A value's type in YAML's words, with the value if it is short."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    names = {str: "string", bool: "boolean", int: "number", float: "number"}
    return f"{names.get(type(value), type(value).__name__)} {value!r}"


class _Validator:
    def __init__(self, path: Path, model: str, outputs: dict[str, list[str] | None], dialect: str,
                 lint_query: LintQuery | None) -> None:
        self.path, self.model, self.models, self.dialect = path, model, outputs, dialect
        self.columns, self.lint_query = outputs[model], lint_query

    def fail(self, key: str, message: str, hint: str | None = None) -> ContractError:
        return ContractError(message, where=Location(self.path, key=key or None), hint=hint)

    def keys(self, mapping: Any, allowed: tuple[str, ...], where: str) -> dict:
        if not isinstance(mapping, dict):
            raise self.fail(where, f"expected a mapping, got {_kind(mapping)}")
        for key in mapping:
            if key not in allowed:
                raise self.fail(f"{where}.{key}" if where else key, "unknown key",
                                hint=f"valid keys here: {', '.join(allowed)}")
        self.typed(mapping, where)
        return mapping

    def typed(self, mapping: dict, where: str) -> None:
        """Every value of a type Soda accepts for its key; the SQL in it parses."""
        for key, value in mapping.items():
            at = f"{where}.{key}" if where else key
            if key in TYPES:
                test, expected, hint = TYPES[key]
                if not test(value):
                    raise self.fail(at, f"expected {expected}, got {_kind(value)}", hint=hint)
            if key in VALUE_LISTS:
                self.value_list(value, at)
            elif key in FORMATS:
                if not isinstance(value, dict):
                    raise self.fail(at, f"expected a format, got {_kind(value)}",
                                    hint="e.g. {name: two letters, regex: '^[A-Z]{2}$'}")
                self.keys(value, ("name", "regex"), at)
                for part in ("name", "regex"):
                    if not isinstance(value.get(part), str):
                        raise self.fail(f"{at}.{part}", f"a format needs a {part} string",
                                        hint="e.g. {name: two letters, regex: '^[A-Z]{2}$'}")
            elif key in SQL_KINDS:
                problem = syntax_error(value, SQL_KINDS[key], self.dialect)
                if problem:
                    raise self.fail(at, problem, hint="fix the SQL; it runs on the warehouse as written, "
                                    "with ${var.RELATION} the relation being verified")
                if key == "query" and not reads_candidate(value):
                    raise self.fail(at, "the query does not read ${var.RELATION}, the version being verified",
                                    hint="select from ${var.RELATION}, not from the model's published name")
                self.lint(value, SQL_KINDS[key], at)

    def lint(self, text: str, kind: str, where: str) -> None:
        """The tables and columns of a check's SQL, checked as a model's would be."""
        if self.lint_query is None:
            return
        problems = self.lint_query(*for_lint(text, kind, self.model))
        if problems:
            raise self.fail(where, as_written(problems[0], self.model),
                            hint="the candidate is ${var.RELATION}, another model ${ref.MODEL}, a raw table "
                            "schema.table")

    def value_list(self, values: Any, where: str) -> None:
        if not isinstance(values, list) or not values:
            raise self.fail(where, f"expected a list of values, got {_kind(values)}", hint="e.g. [placed, paid]")
        for i, value in enumerate(values):
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise self.fail(f"{where}[{i}]", f"expected a string or a number, got {_kind(value)}",
                                hint="quote it: YAML reads yes/no/on/off as booleans and ~ as null")

    def column_exists(self, name: Any, where: str) -> None:
        if not isinstance(name, str):
            raise self.fail(where, "expected a column name")
        if self.columns is not None and name.lower() not in self.columns:
            raise self.fail(where, f"the model does not produce a column {name!r}",
                            hint=f"its columns: {', '.join(self.columns)}")

    def contract(self, doc: Any) -> None:
        if doc is None:
            raise self.fail("", "the contract is empty", hint="list the model's columns under `columns:`")
        if not isinstance(doc, dict):
            raise self.fail("", f"the top level must be a mapping (columns:, checks:), not {_kind(doc)}")
        for where, text in _strings(doc, ""):
            problem = unknown_variable(text, self.models, self.model)
            if problem:
                raise self.fail(where, *problem)
        self.keys(doc, TOP_KEYS, "")
        columns = doc.get("columns")
        if not isinstance(columns, list) or not columns:
            raise self.fail("columns", "a contract needs a non-empty list of columns")
        listed: dict[str, int] = {}
        for i, column in enumerate(columns):
            where = f"columns[{i}]"
            self.keys(column, COLUMN_KEYS, where)
            self.column_exists(column.get("name"), f"{where}.name")
            name = column["name"].lower()
            if name in listed:
                raise self.fail(f"{where}.name", f"column {column['name']!r} is listed twice",
                                hint=f"merge it into columns[{listed[name]}]")
            listed[name] = i
            self.check_list(column.get("checks") or [], f"{where}.checks", COLUMN_CHECKS)
        self.check_list(doc.get("checks") or [], "checks", DATASET_CHECKS)
        if "elt" in doc:
            self.toolkit(doc["elt"])

    def toolkit(self, section: Any) -> None:
        self.keys(section, TOOLKIT_KEYS, "elt")
        change = section.get("volume_change")
        if change is not None and not (_number(change) and 0 < change <= 10):
            raise self.fail("elt.volume_change", f"expected a fraction above 0, got {_kind(change)}",
                            hint="e.g. volume_change: 0.2 fails a row count that moves more than ±20 %")

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
                hint = DBT_TESTS.get(kind, f"valid here: {', '.join(kinds)}")
                raise self.fail(f"{at}.{kind}", f"unknown check type {kind!r}", hint=hint)
            body = self.keys(body if body is not None else {}, kinds[kind], f"{at}.{kind}")
            identity = (kind, body.get("qualifier"))
            if identity in seen:
                raise self.fail(f"{at}.{kind}", f"a second {kind} check here needs a distinct qualifier",
                                hint="add `qualifier: <name>` to one of them")
            seen.add(identity)
            self.check_body(kind, body, f"{at}.{kind}")

    def check_body(self, kind: str, body: dict, where: str) -> None:
        if "threshold" in body:
            self.threshold(body["threshold"], f"{where}.threshold", kind, body)
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
        if kind == "aggregate" and str(body.get("function")).lower() not in AGGREGATE_FUNCTIONS:
            raise self.fail(f"{where}.function", f"{body.get('function')!r} is not an aggregate function Soda has",
                            hint=f"one of: {', '.join(AGGREGATE_FUNCTIONS[:7])}")
        if kind in ("metric", "failed_rows"):
            forms = [k for k in ("query", "expression") if k in body]
            if len(forms) != 1:
                raise self.fail(where, f"a {kind} check needs either `query` or `expression`"
                                + (", not both" if forms else ""))

    def threshold(self, threshold: Any, where: str, kind: str, body: dict) -> None:
        allowed = THRESHOLD_KEYS + (("unit",) if kind == "freshness" else ())
        self.keys(threshold, allowed, where)
        comparisons = [k for k in COMPARISONS if k in threshold]
        if not comparisons:
            raise self.fail(where, "a threshold needs a comparison", hint=f"one of: {', '.join(COMPARISONS)}")
        if len(comparisons) > 1:
            # Soda then builds no threshold at all, and the check is NOT_EVALUATED on every run.
            raise self.fail(where, f"a threshold has exactly one comparison, not {' and '.join(comparisons)}",
                            hint="for a range use must_be_between: {greater_than: ..., less_than: ...}")
        if threshold.get("level", "fail") not in ("fail", "warn"):
            raise self.fail(f"{where}.level", "level must be fail or warn")
        if kind == "freshness" and threshold.get("unit", "hour") not in ("minute", "hour", "day"):
            raise self.fail(f"{where}.unit", "unit must be minute, hour or day")
        if "metric" in threshold:
            self.metric(threshold["metric"], f"{where}.metric", kind, body)
        key = comparisons[0]
        if key.endswith("between"):
            self.range(threshold[key], f"{where}.{key}", inside=key == "must_be_between")
        elif not _number(threshold[key]):
            raise self.fail(f"{where}.{key}", f"expected a number, got {_kind(threshold[key])}",
                            hint="write the number without quotes")

    def metric(self, metric: Any, where: str, kind: str, body: dict) -> None:
        if kind not in METRIC_KINDS:
            raise self.fail(where, f"a {kind} check has no metric", hint="remove it")
        if metric not in METRICS:
            raise self.fail(where, f"metric must be count or percent, not {_kind(metric)}")
        if metric == "percent" and "query" in body:
            raise self.fail(where, "a percent of a query's rows needs Soda's rows_tested_query, which contracts "
                            "here do not take", hint="use metric: count, or an `expression` instead of `query`")

    def range(self, bounds: Any, where: str, inside: bool) -> None:
        """One lower and one upper bound, numbers, in the order Soda accepts (else it does not evaluate)."""
        self.keys(bounds, BOUNDS, where)
        for key, value in bounds.items():
            if not _number(value):
                raise self.fail(f"{where}.{key}", f"expected a number, got {_kind(value)}",
                                hint="write the number without quotes")
        greater = [k for k in BOUNDS[:2] if k in bounds]
        less = [k for k in BOUNDS[2:] if k in bounds]
        if len(greater) != 1 or len(less) != 1:
            raise self.fail(where, "a range needs one of greater_than / greater_than_or_equal and one of "
                            "less_than / less_than_or_equal")
        low, high = bounds[greater[0]], bounds[less[0]]
        if inside and low >= high:
            raise self.fail(where, f"an empty range: greater than {low} and less than {high}",
                            hint="the greater_than bound is the smaller number")
        if not inside and low <= high:
            raise self.fail(where, f"must_be_not_between takes the bounds of the values outside: greater than "
                            f"{low} or less than {high} covers every value", hint="swap the two numbers")
