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
    (lambda d: d["columns"][1]["checks"][0]["invalid"].pop("valid_values"), "columns[1].checks[0].invalid",
     "needs a validity rule"),
    (lambda d: d["checks"][1]["row_count"].update(threshold={"must_be": "0"}),
     "checks[1].row_count.threshold.must_be", "expected a number"),
    (lambda d: d["checks"][2]["freshness"]["threshold"].update(unit="week"),
     "checks[2].freshness.threshold.unit", "minute, hour or day"),
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


def test_yaml_syntax_error_has_line(tmp_path):
    path = write(tmp_path, "columns:\n  - name: order_id\n    checks: [missing:\n")
    with pytest.raises(ContractError) as err:
        load_contract(path, OUTPUTS)
    assert str(err.value).startswith(f"{path}:4:")
