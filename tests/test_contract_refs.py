"""A contract that reads another model (`${ref.MODEL}`, dbt's `relationships`), through the real `elt`: checked
against the version published together with it, so a run that brings the missing parent passes and one that
does not publishes nothing."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.bad_input import elt
from tests.helpers import query

ORDERS_MODEL = """-- materialized: table
-- description: Orders, each of a customer in stg_customers.
select order_id, customer_id, amount from raw_seeds.orders
"""
RELATIONSHIPS = """columns:
  - name: order_id
    checks:
      - duplicate:
  - name: customer_id
  - name: amount
checks:
  - failed_rows:
      qualifier: customer_exists
      query: |
        select o.* from ${var.RELATION} o
        where not exists (select 1 from ${ref.stg_customers} c where c.customer_id = o.customer_id)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """`elt init`'s project with a second seed, orders, whose contract says every order has a customer."""
    assert elt(tmp_path, "init", "shop").returncode == 0
    project = tmp_path / "shop"
    (project / "seeds" / "orders.csv").write_text("order_id,customer_id,amount\n1,1,10.5\n2,2,20.0\n")
    with (project / "elt.toml").open("a") as toml:
        toml.write('\n[sources.seeds.resources.orders]\nglob = "orders.csv"\nwrite_disposition = "merge"\n'
                   'primary_key = "order_id"\n'
                   'columns = { order_id = "bigint", customer_id = "bigint", amount = "double" }\n')
    (project / "transforms/models/marts/orders.sql").write_text(ORDERS_MODEL)
    (project / "checks/contracts/orders.yml").write_text(RELATIONSHIPS)
    return project


@pytest.mark.slow
def test_a_relationships_check_reads_the_parent_published_with_it(project: Path, prefect_server):
    env = {"PREFECT_API_URL": prefect_server}
    lint = elt(project, "lint")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    first = elt(project, "run", env=env)
    assert first.returncode == 0 and "published publication 1" in first.stdout, first.stdout + first.stderr

    orders = project / "seeds" / "orders.csv"
    orders.write_text(orders.read_text() + "3,9,5.0\n")  # customer 9 does not exist
    orphan = elt(project, "run", "--json", env=env)
    assert orphan.returncode == 1, orphan.stdout + orphan.stderr
    assert "failed_rows[customer_exists]" in orphan.stderr and "Traceback" not in orphan.stderr
    record = json.loads(orphan.stdout)  # stdout holds the JSON alone, a blocked run's too
    assert record["status"] == "blocked" and record["publication"] is None and "gate failed" in record["error"]
    assert [load["rows"] for load in record["loads"]] == [{"orders": 3}]  # the changed file, merged by order_id
    assert [(o["check"], o["value"]) for o in record["outcomes"] if not o["passed"]] == [
        ("failed_rows[customer_exists]", 1)]
    assert query(project, "select count(*) from analytics.orders") == [(2,)]  # nothing was published
    history = elt(project, "history")
    assert history.returncode == 0 and "blocked" in history.stdout, history.stdout + history.stderr
    assert "orders: failed_rows[customer_exists]: FAILED, measured 1" in history.stdout
    assert [e["kind"] for e in json.loads(elt(project, "history", "--json").stdout)] == ["blocked", "publish"]
    again = elt(project, "verify", "--last-build")  # the blocked versions, checked again without a build
    assert again.returncode == 1 and "FAILED   orders: failed_rows[customer_exists]" in again.stdout, again.stdout
    assert "against the candidates of blocked run" in again.stderr
    assert "PASSED" in elt(project, "verify", "orders").stdout  # what is published still passes

    customers = project / "seeds" / "customers.csv"
    customers.write_text(customers.read_text() + "9,Mary Somerville,GB,2026-03-02T10:00:00Z\n")
    together = elt(project, "run", "--json", env=env)  # the parent arrives in the same run: checked against it
    assert together.returncode == 0, together.stdout + together.stderr
    record = json.loads(together.stdout)
    assert record["status"] == "published" and record["publication"]["id"] == 2 and record["error"] is None
    assert record["checks"]["failed"] == 0 and "analytics.orders" in record["publication"]["models"]
    assert query(project, "select count(*) from analytics.orders") == [(3,)]

    verify = elt(project, "verify", "orders", "--json")
    assert verify.returncode == 0 and '"failed": 0' in verify.stdout, verify.stdout + verify.stderr
    published_last = elt(project, "verify", "--last-build")
    assert published_last.returncode == 1 and "the last run was not blocked" in published_last.stderr
    assert "published nothing new" in elt(project, "run", env=env).stdout  # nothing changed: nothing verified again
    trend = elt(project, "checks", "orders")  # the check's value in each run that checked it, the blocked one too
    assert trend.returncode == 0, trend.stderr
    line = next(x for x in trend.stdout.splitlines() if "failed_rows[customer_exists]" in x)
    assert line.split()[1:4] == ["0", "1!", "0"] and line.split()[4] == "PASSED", line
    records = json.loads(elt(project, "checks", "--json").stdout)
    assert {r["run_id"] for r in records["checks"] if not r["published"]} and {
        r["model"] for r in records["checks"]} == {"orders", "customers_by_country"}
    [kept] = records["failed_rows"]  # the blocked run's offending row, kept in the warehouse
    assert kept["check"] == "failed_rows[customer_exists]" and kept["total"] == 1
    assert kept["rows"] == [[3, 9, 5.0]] and "where not exists" in kept["sql"]
    assert "order_id=3, customer_id=9, amount=5.0" in trend.stdout and "find them all: select o.*" in trend.stdout


@pytest.mark.slow
def test_a_changed_parent_verifies_the_child_again(project: Path, prefect_server):
    """orders did not change, but the customers it is checked against did: its check runs again and blocks."""
    env = {"PREFECT_API_URL": prefect_server}
    assert elt(project, "run", env=env).returncode == 0
    customers = project / "seeds" / "customers.csv"
    customers.write_text(customers.read_text().replace("2,Grace Hopper,US,2026-01-04T14:02:00Z\n", ""))
    (project / "elt.toml").write_text((project / "elt.toml").read_text().replace(
        'glob = "customers.csv"\nwrite_disposition = "merge"', 'glob = "customers.csv"\nwrite_disposition = "replace"'))
    dropped = elt(project, "run", env=env)
    assert dropped.returncode == 1, dropped.stdout + dropped.stderr
    assert "failed_rows[customer_exists]" in dropped.stdout + dropped.stderr
    assert query(project, "select customers from analytics.customers_by_country where country = 'US'") == [(2,)]
