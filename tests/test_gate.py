"""The gate over real Soda verification on a real DuckDB table."""
import duckdb
import pytest
import yaml

from checks.contracts import load_contract
from checks.gate import decide
from checks.verify import verify

OUTPUTS = {"orders": ["order_id", "status", "updated_at"]}


@pytest.fixture
def con(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema _elt")
    con.execute("create table _elt.orders__v1 as select * from (values (1, 'paid', now()), (2, 'placed', now()), "
                "(2, 'lost', now())) t(order_id, status, updated_at)")
    yield con
    con.close()


def outcomes(con, tmp_path, checks: list, columns: list | None = None):
    path = tmp_path / "orders.yml"
    path.write_text(yaml.safe_dump({"columns": columns or [{"name": "order_id"}], "checks": checks}))
    from elt.config import Target
    from elt.warehouse import DuckDBWarehouse

    wh = DuckDBWarehouse(Target(name="dev", type="duckdb", path=tmp_path / "w.duckdb"), con)
    return verify(wh, load_contract(path, OUTPUTS), "_elt.orders__v1")


def test_every_check_passed(con, tmp_path):
    report = decide(outcomes(con, tmp_path, [{"row_count": {"threshold": {"must_be": 3}}}]))
    assert report.passed and report.summary == {"checks": 1, "passed": 1, "failed": 0}


def test_failures_are_reported_with_value_and_threshold(con, tmp_path):
    report = decide(outcomes(con, tmp_path, [{"row_count": None}], columns=[
        {"name": "order_id", "checks": [{"duplicate": None}]},
        {"name": "status", "checks": [{"invalid": {"valid_values": ["paid", "placed"]}}]},
    ]))
    assert not report.passed
    assert report.explain().splitlines()[1:] == [
        "  orders: duplicate on order_id: FAILED, measured 1, threshold = 0",
        "  orders: invalid on status: FAILED, measured 1, threshold = 0",
    ]


def test_not_evaluated_fails_the_gate(con, tmp_path):
    """Soda reports a check it could not evaluate as ok; the gate does not."""
    found = outcomes(con, tmp_path, [
        {"row_count": None},
        {"failed_rows": {"query": "select * from ${var.RELATION} join _elt.no_such_table using (order_id)"}},
    ])
    report = decide(found)
    assert not report.passed
    assert {o.outcome for o in report.failures} >= {"NOT_EVALUATED"}


def test_warn_level_passes_but_is_reported(con, tmp_path):
    found = outcomes(con, tmp_path, [{"row_count": {"threshold": {"must_be": 10, "level": "warn"}}}])
    assert [o.outcome for o in found] == ["WARN"]
    assert decide(found).passed


def test_no_contracts_nothing_to_block():
    assert decide([]).passed
