import logging
from pathlib import Path

import pytest
import yaml

from checks.contracts import load_contract, load_contracts
from elt.errors import ContractError
from tests.conftest import REPO

OUTPUTS = {"orders": ["order_id", "customer_id", "status", "amount", "updated_at"]}
BASE = {
    "columns": [
        {"name": "order_id", "checks": [{"missing": None}, {"duplicate": None}]},
        {"name": "status", "checks": [{"invalid": {"valid_values": ["placed", "paid"]}}]},
    ],
    "checks": [
        {"schema": None},
        {"row_count": {"threshold": {"must_be_greater_than": 0}}},
        {"freshness": {"column": "updated_at", "threshold": {"unit": "hour", "must_be_less_than": 6}}},
    ],
}


def write(tmp_path: Path, document) -> Path:
    path = tmp_path / "orders.yml"
    path.write_text(document if isinstance(document, str) else yaml.safe_dump(document, sort_keys=False))
    return path


def edited(change) -> dict:
    document = yaml.safe_load(yaml.safe_dump(BASE))
    change(document)
    return document


def test_repository_contracts_are_valid():
    outputs = {
        "orders": ["order_id", "customer_id", "status", "amount", "paid_amount", "payment_method", "ordered_at",
                   "paid_at", "updated_at"],
        "customers": ["customer_id", "customer_name", "country", "tier", "order_count", "lifetime_value",
                      "first_order_at", "last_order_at", "updated_at"],
        "daily_revenue": ["order_date", "orders", "customers", "revenue", "updated_at"],
    }
    contracts = load_contracts(REPO / "checks" / "contracts", outputs)
    assert set(contracts) == set(outputs)
    assert all(c.check_count >= 5 for c in contracts.values())


def test_valid_contract(tmp_path):
    assert load_contract(write(tmp_path, BASE), OUTPUTS).check_count == 6


@pytest.mark.parametrize("change, key, fragment", [
    (lambda d: d.update(colums=[]), "colums", "unknown key"),
    (lambda d: d["checks"][1]["row_count"]["threshold"].update(must_be_greather_than=5),
     "checks[1].row_count.threshold.must_be_greather_than", "unknown key"),
    (lambda d: d["checks"][1]["row_count"].update(treshold={"must_be": 1}), "checks[1].row_count.treshold",
     "unknown key"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"level": "warn"}), "checks[1].row_count.threshold",
     "needs a comparison"),
    (lambda d: d["columns"].append({"name": "colour"}), "columns[2].name", "does not produce a column 'colour'"),
    (lambda d: d["checks"][2]["freshness"].update(column="created"), "checks[2].freshness.column",
     "does not produce"),
    (lambda d: d["checks"][2]["freshness"].pop("threshold"), "checks[2].freshness.threshold", "needs a threshold"),
    (lambda d: d["columns"][0]["checks"].append({"missing": None}), "columns[0].checks[2].missing",
     "distinct qualifier"),
    (lambda d: d["columns"][0]["checks"].append({"missin": None}), "columns[0].checks[2].missin",
     "unknown check type"),
    (lambda d: d["columns"][0]["checks"].append({"unique": None}), "columns[0].checks[2].unique",
     "dbt's `unique` is `duplicate` here"),
    (lambda d: d["columns"][0]["checks"].append({"not_null": None}), "columns[0].checks[2].not_null",
     "dbt's `not_null` is `missing` here"),
    (lambda d: d["columns"][0]["checks"].append({"accepted_values": None}), "columns[0].checks[2].accepted_values",
     "`- invalid: {valid_values: [...]}`"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].pop("valid_values"), "columns[1].checks[0].invalid",
     "needs a validity rule"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be": "0"}),
     "checks[1].row_count.threshold.must_be", "expected a number"),
    (lambda d: d["checks"][2]["freshness"]["threshold"].update(unit="week"),
     "checks[2].freshness.threshold.unit", "minute, hour or day"),
    # values of a type Soda only logs a warning about, then ignores or fails on at verification
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_values="placed"),
     "columns[1].checks[0].invalid.valid_values", "expected a list of values, got string 'placed'"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_values=["placed", True]),
     "columns[1].checks[0].invalid.valid_values[1]", "got boolean True — quote it"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_values=[]),
     "columns[1].checks[0].invalid.valid_values", "expected a list of values"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_min="0"),
     "columns[1].checks[0].invalid.valid_min", "expected a number, got string '0'"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_max=None),
     "columns[1].checks[0].invalid.valid_max", "expected a number, got nothing (null)"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_length=2.5),
     "columns[1].checks[0].invalid.valid_length", "expected a whole number, 0 or more"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_format="^[a-z]+$"),
     "columns[1].checks[0].invalid.valid_format", "expected a format, got string"),
    (lambda d: d["columns"][1]["checks"][0]["invalid"].update(valid_format={"regex": "^[a-z]+$"}),
     "columns[1].checks[0].invalid.valid_format.name", "a format needs a name string"),
    (lambda d: d["checks"][0].update(schema={"allow_extra_columns": "yes"}), "checks[0].schema.allow_extra_columns",
     "expected true or false"),
    (lambda d: d["checks"][1]["row_count"].update(filter=["status = 'paid'"]), "checks[1].row_count.filter",
     "expected a string, got a list"),
    (lambda d: d["columns"][0]["checks"][0].update(missing={"qualifier": ["a"]}),
     "columns[0].checks[0].missing.qualifier", "expected a string or a whole number"),
    (lambda d: d["columns"][0].update(data_type=5), "columns[0].data_type", "expected a string, got number 5"),
    (lambda d: d["columns"].append({"name": "ORDER_ID"}), "columns[2].name", "listed twice — merge it into columns[0]"),
    # thresholds Soda would not evaluate
    (lambda d: d["checks"][1]["row_count"]["threshold"].update(must_be_less_than=10), "checks[1].row_count.threshold",
     "exactly one comparison, not must_be_greater_than and must_be_less_than"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be_between": {"greater_than": 5, "less_than": 1}}),
     "checks[1].row_count.threshold.must_be_between", "an empty range"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be_between": {"greater_than": 1}}),
     "checks[1].row_count.threshold.must_be_between", "a range needs one of greater_than"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be_not_between": {"greater_than": 0,
                                                                                      "less_than": 9}}),
     "checks[1].row_count.threshold.must_be_not_between", "covers every value"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be_between": {"greater_than": "1",
                                                                                  "less_than": 9}}),
     "checks[1].row_count.threshold.must_be_between.greater_than", "expected a number"),
    (lambda d: d["checks"][1]["row_count"]["threshold"].update(metric="percent"),
     "checks[1].row_count.threshold.metric", "a row_count check has no metric"),
    (lambda d: d["columns"][0]["checks"][0].update(missing={"threshold": {"metric": "ratio", "must_be": 0}}),
     "columns[0].checks[0].missing.threshold.metric", "metric must be count or percent"),
    (lambda d: d["checks"].append({"aggregate": None}), "checks[3].aggregate", "unknown check type"),
    (lambda d: d["columns"][0]["checks"].append({"aggregate": {"function": "median", "threshold": {"must_be": 1}}}),
     "columns[0].checks[2].aggregate.function", "not an aggregate function Soda has"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from ${var.RELATION}",
                                                    "expression": "amount < 0"}}),
     "checks[3].failed_rows", "either `query` or `expression`, not both"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from analytics.orders where amount < 0"}}),
     "checks[3].failed_rows.query", "does not read ${var.RELATION}, the version being verified"),
    # variables: the toolkit passes RELATION; Soda has NOW and DATA_TIMESTAMP
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from ${var.RELATON}"}}),
     "checks[3].failed_rows.query", "unknown variable ${var.RELATON} — did you mean ${var.RELATION}? known variables: "
     "${var.RELATION}, ${soda.NOW}, ${soda.DATA_TIMESTAMP}"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from ${RELATION}"}}),
     "checks[3].failed_rows.query", "'${RELATION}' is not a variable reference — write ${var.NAME}"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from t where x > '${env.START}'"}}),
     "checks[3].failed_rows.query", "unknown variable ${env.START}"),
    (lambda d: d["columns"][0].update(description="checked in ${var.SCHEMA}"), "columns[0].description",
     "unknown variable ${var.SCHEMA}"),
    # SQL that does not parse: found at load, not as Soda tracebacks after extraction and building
    (lambda d: d["checks"].append({"failed_rows": {"query": "select *\nfrom ${var.RELATION}\nwher amount < 0"}}),
     "checks[3].failed_rows.query", "SQL syntax error at line 3, column 6: Invalid expression / Unexpected token"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "select * from ${var.RELATION} where amount = 'x"}}),
     "checks[3].failed_rows.query", "a string or quoted name that is never closed"),
    (lambda d: d["checks"].append({"failed_rows": {"query": "delete from ${var.RELATION}"}}),
     "checks[3].failed_rows.query", "a query must be exactly one SELECT"),
    (lambda d: d["checks"].append({"metric": {"expression": "sum(amount) /", "threshold": {"must_be": 0}}}),
     "checks[3].metric.expression", "SQL syntax error at line 1, column 13: Required keyword: 'expression' missing"),
    (lambda d: d["checks"][1]["row_count"].update(filter="status = 'paid' and"), "checks[1].row_count.filter",
     "SQL syntax error"),
])
def test_mistakes_soda_would_ignore_are_rejected(tmp_path, change, key, fragment):
    path = write(tmp_path, edited(change))
    with pytest.raises(ContractError) as err:
        load_contract(path, OUTPUTS)
    assert str(err.value).startswith(f"{path}: {key}: "), str(err.value)
    assert fragment in str(err.value)


def test_contract_for_unknown_model(tmp_path):
    path = tmp_path / "ordres.yml"
    path.write_text(yaml.safe_dump(BASE))
    with pytest.raises(ContractError, match="no model named ordres"):
        load_contract(path, OUTPUTS)


def test_two_contracts_for_one_model(tmp_path):
    write(tmp_path, BASE)
    (tmp_path / "orders.yaml").write_text(yaml.safe_dump(BASE))
    with pytest.raises(ContractError) as err:
        load_contracts(tmp_path, OUTPUTS)
    assert str(err.value) == (f"{tmp_path / 'orders.yml'}: a second contract for model orders (the first: "
                              "orders.yaml) — merge them into one file")


def test_yaml_syntax_error_has_line(tmp_path):
    path = write(tmp_path, "columns:\n  - name: order_id\n    checks: [missing:\n")
    with pytest.raises(ContractError) as err:
        load_contract(path, OUTPUTS)
    assert str(err.value).startswith(f"{path}:4:")


def test_sql_with_variables_parses(tmp_path):
    path = write(tmp_path, edited(lambda d: d["checks"].extend([
        {"failed_rows": {"qualifier": "late", "query": "select * from ${var.RELATION}\n"
                         "where updated_at > '${soda.NOW}'::timestamp"}},
        {"metric": {"expression": "sum(amount) / nullif(count(*), 0)", "threshold": {"must_be_less_than": 1e6}}},
        {"row_count": {"qualifier": "paid", "filter": "status = 'paid'", "threshold": {
            "must_be_between": {"greater_than_or_equal": 0, "less_than": 100}}}},
    ])))
    assert load_contract(path, OUTPUTS).check_count == 9


@pytest.mark.parametrize("text, where, fragment", [
    ("columns:\n  - name: order_id\n    checks:\n      - missing:\n    checks:\n      - duplicate:\n", ":5:5:",
     "duplicate key 'checks' (first at line 3) — keep one of them: YAML silently uses the last"),
    ("columns:\n  - name: order_id\nchecks:\n  - row_count:\n      threshold:\n        must_be: 1\n"
     "        must_be: 2\n", ":7:9:", "duplicate key 'must_be' (first at line 6)"),
    ("", ": ", "the contract is empty — list the model's columns under `columns:`"),
    ("# nothing yet\n", ": ", "the contract is empty"),
    ("- name: order_id\n", ": ", "the top level must be a mapping (columns:, checks:), not a list"),
    ("columns\n", ": ", "the top level must be a mapping (columns:, checks:), not string 'columns'"),
])
def test_shape_of_the_document(tmp_path, text, where, fragment):
    path = write(tmp_path, text)
    with pytest.raises(ContractError) as err:
        load_contract(path, OUTPUTS)
    assert str(err.value).startswith(f"{path}{where}") and fragment in str(err.value), str(err.value)


def test_a_yaml_merge_key_may_be_overridden(tmp_path):
    path = write(tmp_path, "columns:\n  - &id {name: order_id, description: the key}\n"
                           "  - <<: *id\n    name: status\n")
    assert load_contract(path, OUTPUTS).document["columns"][1] == {"name": "status", "description": "the key"}


def test_a_byte_that_is_not_utf8_is_located(tmp_path):
    path = tmp_path / "orders.yml"
    path.write_bytes(b"columns:\n  - name: order_id\n    description: caf\xe9\n")
    with pytest.raises(ContractError) as err:
        load_contract(path, OUTPUTS)
    assert str(err.value) == (f"{path}:3:21: byte 0xe9 is not UTF-8: the file is in another encoding "
                              "(Latin-1, Windows-1252?) — save it as UTF-8")


def test_a_byte_order_mark_is_not_part_of_the_yaml(tmp_path):
    path = tmp_path / "orders.yml"
    path.write_bytes(b"\xef\xbb\xbf" + yaml.safe_dump(BASE).encode())
    assert load_contract(path, OUTPUTS).check_count == 6


def test_a_query_the_warehouse_refuses_is_one_line_not_tracebacks(tmp_path, caplog):
    """The SQL parses, so only the warehouse can refuse it: Soda's log record and the outcome say it in one line."""
    import duckdb

    from checks.verify import verify
    from elt.config import Target
    from elt.warehouse import DuckDBWarehouse

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema _elt")
    con.execute("create table _elt.orders__v1 as select 1 as order_id")
    path = write(tmp_path, {"columns": [{"name": "order_id"}],
                            "checks": [{"failed_rows": {"query": "select * from ${var.RELATION} where nope > 0"}}]})
    wh = DuckDBWarehouse(Target(name="dev", type="duckdb", path=tmp_path / "w.duckdb"), con)
    with caplog.at_level(logging.WARNING):
        outcomes = verify(wh, load_contract(path, OUTPUTS), "_elt.orders__v1")
    con.close()
    soda = [r for r in caplog.records if r.name == "soda"]
    assert soda and all(r.exc_info is None and "\n" not in r.getMessage() for r in soda)
    assert "Traceback" not in caplog.text
    errors = [o for o in outcomes if o.outcome == "ERROR"]
    assert [o.threshold for o in errors] == [
        'Could not execute failed rows count query: Binder Error: Referenced column "nope" not found in FROM clause!']
    assert {o.outcome for o in outcomes} == {"NOT_EVALUATED", "ERROR"}


def test_every_shipped_contract_passes_sodas_own_validation(tmp_path):
    """The contracts the toolkit ships (the demo's, `elt init`'s, one with the toolkit's own `elt:` section) as
    Soda receives them at verification: Soda's own validation finds nothing wrong (the `elt:` section is ignored)."""
    from soda_core.common.yaml import ContractYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    from checks.contracts import Contract
    from checks.verify import data_source, retarget
    from elt import warehouse
    from elt.config import Target
    from elt_cli.init import FILES

    documents = {path.stem: yaml.safe_load(path.read_text()) for path in (REPO / "checks" / "contracts").glob("*.yml")}
    documents["customers_by_country"] = yaml.safe_load(FILES["checks/contracts/customers_by_country.yml"])
    documents["orders_with_volume"] = {**documents["orders"], "elt": {"volume_change": 0.2}}
    wh = warehouse.connect(Target(name="dev", type="duckdb", path=tmp_path / "w.duckdb"))
    try:
        with data_source(wh) as source:
            for name, document in sorted(documents.items()):
                text = retarget(wh, Contract(name, tmp_path / f"{name}.yml", document), f"analytics.{name}")
                session = ContractVerificationSession.execute(
                    contract_yaml_sources=[ContractYamlSource.from_str(text)], data_source_impls=[source],
                    only_validate_without_execute=True)
                assert not session.has_errors, f"{name}: {session.get_errors_str()}"
    finally:
        wh.close()
    assert len(documents) == 5
