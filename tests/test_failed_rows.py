"""Failed-row samples of each check kind that judges rows (missing, invalid, duplicate, failed_rows), on DuckDB
and Postgres, through the flow: kept in the warehouse with the run and the check, shown by `elt checks`; for a
blocked run and, when the checks are `level: warn`, for a published one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from elt.errors import GateError
from tests.helpers import query

pytestmark = pytest.mark.usefixtures("prefect_server")

# every 10th order has no customer, every 7th a status no contract allows, every 9th is caught by the query,
# and `bucket` repeats across orders
MODEL = """-- materialized: table
select order_id,
       case when order_id % 10 = 0 then null else customer_id end as customer_id,
       case when order_id % 7 = 0 then 'lost' else status end as status,
       order_id % 5 as bucket
from stg_orders
"""


def contract(level: str) -> str:
    threshold = {"threshold": {"must_be": 0, "level": level}}
    return yaml.safe_dump({
        "columns": [
            {"name": "order_id"},
            {"name": "customer_id", "checks": [{"missing": threshold}]},
            {"name": "status", "checks": [{"invalid": {"valid_values": ["placed", "paid", "shipped", "delivered",
                                                                       "cancelled"], **threshold}}]},
            {"name": "bucket", "checks": [{"duplicate": threshold}]},
        ],
        "checks": [{"failed_rows": {"qualifier": "ninth", "query": "select * from ${var.RELATION} "
                                    "where order_id % 9 = 0", **threshold}}],
    }, sort_keys=False)


def kept(project: Path, run_published: bool) -> dict[str, tuple]:
    rows = query(project, "select f.check_name, f.total, f.offending_values, f.sample_rows, f.sql "
                          "from _elt.failed_rows f where f.model = 'odd_orders' and f.run_id in (select run_id "
                          f"from _elt.check_results where {'' if run_published else 'not '}published)")
    return {check: (total, json.loads(values), json.loads(sample), sql) for check, total, values, sample, sql in rows}


def expected(project: Path) -> dict[str, int]:
    """What each check must count, read from the raw table the model reads, not from the toolkit."""
    [(missing, invalid, ninth, orders)] = query(project, (
        "select sum(case when order_id % 10 = 0 then 1 else 0 end), sum(case when order_id % 7 = 0 then 1 else 0 "
        "end), sum(case when order_id % 9 = 0 then 1 else 0 end), count(*) from raw_shop.orders"))
    return {"missing": missing, "invalid": invalid, "failed_rows[ninth]": ninth, "orders": orders}


def test_failed_rows_of_every_kind_are_kept_and_shown(any_project):
    from flows.elt_flow import elt_pipeline

    (any_project / "transforms" / "models" / "marts" / "odd_orders.sql").write_text(MODEL)
    (any_project / "checks" / "contracts" / "odd_orders.yml").write_text(contract("fail"))
    with pytest.raises(GateError):
        elt_pipeline(project_dir=str(any_project))
    want = expected(any_project)
    blocked = kept(any_project, run_published=False)
    assert set(blocked) == {"missing", "invalid", "duplicate", "failed_rows[ninth]"}
    for check in ("missing", "invalid", "failed_rows[ninth]"):
        total, values, sample, sql = blocked[check]
        assert total == want[check] and len(sample) == min(10, want[check]), check
    assert blocked["invalid"][1] == [["lost", want["invalid"]]]  # the offending value and its rows
    assert blocked["missing"][1] == []  # no values to count: every one is NULL
    assert all(row[0] % 9 == 0 for row in blocked["failed_rows[ninth]"][2])
    duplicate_total, values, sample, sql = blocked["duplicate"]
    assert sorted(v for v, _ in values) == [0, 1, 2, 3, 4] and sum(n for _, n in values) == want["orders"]
    assert duplicate_total == want["orders"] - 5 and all(row[-1] in (0, 1, 2, 3, 4) for row in sample)

    shown = subprocess.run([sys.executable, "-m", "elt_cli.main", "checks", "odd_orders"], cwd=any_project,
                           capture_output=True, text=True, env=os.environ | {"NO_COLOR": "1"}, timeout=120)
    assert shown.returncode == 0, shown.stderr
    for check in ("missing on customer_id", "invalid on status", "duplicate on bucket", "failed_rows[ninth]"):
        assert f"odd_orders: {check}:" in shown.stdout, shown.stdout
    assert f"values: lost ({want['invalid']})" in shown.stdout and "find them all: select" in shown.stdout

    # the same checks at level warn: the run publishes, and their rows are kept all the same
    (any_project / "checks" / "contracts" / "odd_orders.yml").write_text(contract("warn"))
    summary = elt_pipeline(project_dir=str(any_project))
    assert summary.publication is not None and "odd_orders" in summary.publication.models
    assert {o.check for o in summary.gate.warnings} == {"missing", "invalid", "duplicate", "failed_rows[ninth]"}
    published = kept(any_project, run_published=True)
    assert {check: value[0] for check, value in published.items()} == {
        check: value[0] for check, value in blocked.items()}
    names = {name for (name,) in query(any_project, "select table_name from information_schema.tables "
                                                    "where table_schema = 'analytics'")}
    assert names == set(summary.publication.models), "the records stay out of the published schema"
