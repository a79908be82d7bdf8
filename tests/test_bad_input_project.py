"""Bad project files (elt.toml, models, contracts) through the real `elt lint`: one clear line naming the file
and line or key path and what to do, exit 1, no traceback, the warehouse unchanged. A new kind of bad input
is one more entry in a table below.
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Callable

import pytest

from tests.bad_input import assert_clear_error, elt, warehouse_digest
from tests.conftest import T1, copy_project

CONFIG = "elt.toml"
MODEL = "transforms/models/marts/daily_revenue.sql"  # no model reads it: its problems are its own
CONTRACT = "checks/contracts/orders.yml"
WAREHOUSE = "warehouse/shop.duckdb"
FAILED_ROWS_QUERY = "query: select * from ${var.RELATION} where paid_amount is not null and paid_amount <> amount"
Breakage = Callable[[Path], None]


def replace(file: str, old: str, new: str, encoding: str = "utf-8") -> Breakage:
    """`old` replaced by `new`, the file saved in `encoding` (as the user's editor might)."""
    def apply(project: Path) -> None:
        path = project / file
        text = path.read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {file}: the case no longer breaks anything"
        path.write_bytes(text.replace(old, new, 1).encode(encoding))
    return apply


def write(file: str, data: bytes) -> Breakage:
    return lambda project: (project / file).write_bytes(data)


def encode(file: str, encoding: str) -> Breakage:
    """The file unchanged, saved in `encoding`."""
    return replace(file, "", "", encoding)


# name, how to break the project, the command, texts the error line must contain
ERROR_CASES = [
    ("config_latin1_byte", replace(CONFIG, "# The project file", "# The project's café", "latin-1"), ("lint",),
     (f"{CONFIG}:1:20:", "byte 0xe9 is not UTF-8", "save it as UTF-8")),
    ("config_utf16", encode(CONFIG, "utf-16"), ("lint",), (f"{CONFIG}:1:1:", "UTF-16", "save it as UTF-8")),
    ("config_empty", write(CONFIG, b""), ("lint",), (f"{CONFIG}: targets: no target declared", "add [targets.dev]")),
    ("contract_latin1_byte", replace(CONTRACT, "  - name: paid_amount", "  - name: paid_amount\n    description: reçu",
                                     "latin-1"), ("lint",),
     (f"{CONTRACT}:20:20:", "byte 0xe7 is not UTF-8", "save it as UTF-8")),
    ("contract_cp1252_quote", replace(CONTRACT, "# Soda v4", "# Soda’s v4", "cp1252"), ("lint",),
     (f"{CONTRACT}:1:7:", "byte 0x92 is not UTF-8", "save it as UTF-8")),
    ("contract_duplicate_key", replace(CONTRACT, "      qualifier: paid_matches_amount\n",
                                       "      qualifier: paid_matches_amount\n      qualifier: paid_is_amount\n"),
     ("lint",), (f"{CONTRACT}:36:7:", "duplicate key 'qualifier' (first at line 35)", "YAML silently uses the last")),
    ("contract_empty", write(CONTRACT, b"# to do\n"), ("lint",), (f"{CONTRACT}: the contract is empty", "columns:")),
    ("contract_top_level_list", write(CONTRACT, b"- name: order_id\n- name: status\n"), ("lint",),
     (f"{CONTRACT}: the top level must be a mapping", "not a list")),
    ("valid_values_not_a_list", replace(CONTRACT, "valid_values: [placed, paid, shipped, delivered, cancelled]",
                                        "valid_values: placed, paid, shipped"), ("lint",),
     (f"{CONTRACT}: columns[2].checks[0].invalid.valid_values:", "expected a list of values", "e.g. [placed, paid]")),
    ("valid_values_yes_no", replace(CONTRACT, "[placed, paid, shipped, delivered, cancelled]", "[placed, yes, no]"),
     ("lint",), (f"{CONTRACT}: columns[2].checks[0].invalid.valid_values[1]:", "got boolean True", "quote it")),
    ("valid_min_quoted", replace(CONTRACT, "valid_min: 0", "valid_min: '0'"), ("lint",),
     (f"{CONTRACT}: columns[3].checks[0].invalid.valid_min:", "expected a number, got string '0'", "without quotes")),
    ("valid_length_fraction", replace(CONTRACT, "valid_min: 0", "valid_length: 1.5"), ("lint",),
     (f"{CONTRACT}: columns[3].checks[0].invalid.valid_length:", "expected a whole number")),
    ("two_comparisons", replace(CONTRACT, "        must_be_greater_than: 0\n",
                                "        must_be_greater_than: 0\n        must_be_less_than: 100000\n"), ("lint",),
     (f"{CONTRACT}: checks[1].row_count.threshold:", "exactly one comparison", "must_be_between")),
    ("unknown_variable", replace(CONTRACT, "from ${var.RELATION}", "from ${var.TABLE}"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "unknown variable ${var.TABLE}",
      "known variables: ${var.RELATION}")),
    ("variable_without_namespace", replace(CONTRACT, "from ${var.RELATION}", "from ${RELATION}"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "'${RELATION}' is not a variable reference", "${var.NAME}")),
    ("query_syntax_error", replace(CONTRACT, "is not null and", "is not null and and"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "SQL syntax error at line 1, column", "fix the SQL")),
    ("query_multiline_syntax_error", replace(CONTRACT, FAILED_ROWS_QUERY, "query: |\n        select *\n"
                                             "        from ${var.RELATION}\n        wher paid_amount <> amount"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.query:", "SQL syntax error at line 3, column", "fix the SQL")),
    ("query_not_a_select", replace(CONTRACT, FAILED_ROWS_QUERY, "query: delete from ${var.RELATION}"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "a query must be exactly one SELECT")),
    ("query_reads_the_published_name", replace(CONTRACT, "from ${var.RELATION}", "from analytics.orders"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "does not read ${var.RELATION}", "not from the model's published")),
    ("two_contracts_for_one_model", lambda project: (project / CONTRACT).with_suffix(".yaml").write_bytes(
        (project / CONTRACT).read_bytes()), ("lint",),
     (f"{CONTRACT}: a second contract for model orders (the first: orders.yaml)", "merge them")),
    ("expression_syntax_error", replace(CONTRACT, FAILED_ROWS_QUERY, "expression: paid_amount <> amount and"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.expression:", "SQL syntax error at line 1, column")),
    ("volume_change_as_percent_text", replace(CONTRACT, "columns:\n", "elt:\n  volume_change: 20%\ncolumns:\n"),
     ("lint",), (f"{CONTRACT}: elt.volume_change:", "expected a fraction above 0, got string '20%'",
                 "volume_change: 0.2")),
    ("toolkit_section_unknown_key", replace(CONTRACT, "columns:\n", "elt:\n  volume: 0.2\ncolumns:\n"),
     ("lint",), (f"{CONTRACT}: elt.volume: unknown key", "valid keys here: volume_change")),
    ("query_unknown_column", replace(CONTRACT, "paid_amount <> amount", "paid_amount <> amount_paid"), ("lint",),
     (f"{CONTRACT}: checks[3].failed_rows.query:", "column amount_paid does not exist")),
    ("expression_unknown_column", replace(CONTRACT, FAILED_ROWS_QUERY, "expression: paid_amount <> amont"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.expression:", "column amont does not exist")),
    ("query_reads_a_model_by_name", replace(CONTRACT, FAILED_ROWS_QUERY, "query: select * from ${var.RELATION} o "
                                            "where o.customer_id not in (select customer_id from customers)"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.query:", "customers is a model", "${ref.MODEL}")),
    ("ref_unknown_model", replace(CONTRACT, FAILED_ROWS_QUERY, "query: select * from ${var.RELATION} o "
                                  "where o.customer_id not in (select customer_id from ${ref.customer})"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.query:", "no model named customer",
                 "did you mean ${ref.customers}?")),
    ("ref_unknown_column", replace(CONTRACT, FAILED_ROWS_QUERY, "query: select * from ${var.RELATION} o "
                                   "where o.customer_id not in (select c.id from ${ref.customers} c)"),
     ("lint",), (f"{CONTRACT}: checks[3].failed_rows.query:", "column c.id does not exist (has: customer_id")),
]

# The model's problem is a lint violation (L001): one line on stdout, as every other lint finding.
LINT_CASES = [
    ("model_latin1_byte", replace(MODEL, "-- description: Revenue", "-- description: Recette réglée", "latin-1"),
     ("lint",), (f"{MODEL}:2:26: L001 byte 0xe9 is not UTF-8", "save it as UTF-8")),
    ("model_utf16", encode(MODEL, "utf-16"), ("lint",), (f"{MODEL}:1:1: L001 the file is UTF-16", "save it as UTF-8")),
    ("model_empty", write(MODEL, b""), ("lint",), (f"{MODEL}:1:1: L001 the model has no SQL", "write one SELECT")),
    ("model_header_only", write(MODEL, b"-- materialized: table\n-- description: soon\n"), ("lint",),
     (f"{MODEL}:1:1: L001 the model has no SQL",)),
]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project after one extraction: lint then reads the warehouse's raw tables, as a user's does."""
    project = copy_project(tmp_path_factory.mktemp("extracted") / "project")
    result = elt(project, "extract", env={"ELT_NOW": T1})
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.fixture
def project(extracted: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(extracted, tmp_path / "project"))


@pytest.mark.parametrize("name, breakage, command, texts", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_bad_input_is_one_clear_error(project: Path, name: str, breakage: Breakage, command: tuple[str, ...],
                                      texts: tuple[str, ...]) -> None:
    before = warehouse_digest(project / WAREHOUSE)
    breakage(project)
    assert_clear_error(elt(project, *command), *texts)
    assert warehouse_digest(project / WAREHOUSE) == before


@pytest.mark.parametrize("name, breakage, command, texts", LINT_CASES, ids=[c[0] for c in LINT_CASES])
def test_a_bad_model_file_is_one_lint_problem(project: Path, name: str, breakage: Breakage, command: tuple[str, ...],
                                              texts: tuple[str, ...]) -> None:
    before = warehouse_digest(project / WAREHOUSE)
    breakage(project)
    result = elt(project, *command)
    everything = result.stdout + result.stderr
    assert result.returncode == 1 and "Traceback" not in everything, everything
    problems = result.stdout.splitlines()
    assert len(problems) == 1 and all(text in problems[0] for text in texts), everything
    assert "1 problem(s)" in result.stderr
    assert warehouse_digest(project / WAREHOUSE) == before


def test_a_byte_order_mark_is_not_an_error(project: Path) -> None:
    """Windows editors start UTF-8 files with one; TOML, SQL and YAML would reject it or keep it as text."""
    for file in (CONFIG, MODEL, CONTRACT):
        encode(file, "utf-8-sig")(project)
    result = elt(project, "lint")
    assert result.returncode == 0 and "6 model(s) OK, 3 contract(s) OK" in result.stderr, result.stderr
