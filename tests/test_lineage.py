"""Column lineage of the demo's models (joins, aggregates, CTEs) and of models with `*`, unions and column
lists added to it: exact paths up to the raw columns, exact impact downstream; `elt lineage` as a user runs it."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from elt.config import load_project
from sources.catalog import raw_relations_of
from tests.bad_input import elt
from transforms.lineage import ColumnRef, project_lineage
from transforms.plan import make_plan

STAR_MODEL = """-- materialized: table
-- description: orders with what is still to pay; `*` over a join and a CTE that excludes columns
with paid as (
    select * exclude (payment_id, updated_at) from stg_payments
)
select *, amount - coalesce(paid_amount, 0) as outstanding
from stg_orders
left join paid using (order_id)
"""
UNION_MODEL = """-- published: false
-- description: every amount of an order, as a union, through a CTE with a column list
with amounts(order_ref, value) as (
    select order_id, amount from stg_orders
    union all
    select order_id, paid_amount from stg_payments
)
select order_ref, sum(value) as total from amounts group by order_ref
"""


@pytest.fixture
def lineage(project_dir: Path):
    folder = project_dir / "transforms" / "models" / "intermediate"  # lint keeps `*` out of marts
    folder.mkdir()
    (folder / "order_balance.sql").write_text(STAR_MODEL)
    (folder / "order_amounts.sql").write_text(UNION_MODEL)
    project = load_project(project_dir)
    plan = make_plan(project.models_dir, raw_relations_of(project, project.target()))
    return project_lineage(plan.models, plan.relations)


def paths(lineage, text: str) -> set[tuple[str, ...]]:
    """Every path from the column to a column with nothing upstream (a raw column, or count(*))."""
    relation, column = text.rsplit(".", 1)
    steps = {s.ref: s.inputs for s in lineage.upstream(ColumnRef(relation, column))}

    def walk(ref: ColumnRef) -> list[tuple[str, ...]]:
        return [(str(ref), *rest) for upstream in steps[ref] for rest in walk(upstream)] or [(str(ref),)]

    return set(walk(ColumnRef(relation, column)))


def test_lineage_through_renames_joins_aggregates_and_ctes(lineage):
    assert paths(lineage, "orders.payment_method") == {
        ("orders.payment_method", "stg_payments.payment_method", "raw_shop.payments.method")}
    assert paths(lineage, "orders.updated_at") == {  # greatest() over both sides of the join
        ("orders.updated_at", "stg_orders.updated_at", "raw_shop.orders.updated_at"),
        ("orders.updated_at", "stg_payments.updated_at", "raw_shop.payments.updated_at")}
    # an aggregate with a FILTER, inside a CTE, then coalesce() in the outer query
    assert paths(lineage, "customers.lifetime_value") == {
        ("customers.lifetime_value", "orders.amount", "stg_orders.amount", "raw_shop.orders.amount"),
        ("customers.lifetime_value", "orders.status", "stg_orders.status", "raw_shop.orders.status")}
    assert paths(lineage, "customers.first_order_at") == {
        ("customers.first_order_at", "orders.ordered_at", "stg_orders.ordered_at", "raw_shop.orders.created_at")}
    assert paths(lineage, "daily_revenue.order_date") == {
        ("daily_revenue.order_date", "orders.ordered_at", "stg_orders.ordered_at", "raw_shop.orders.created_at")}
    # count(*) reads no column; what decides its rows is said apart
    assert paths(lineage, "daily_revenue.orders") == {("daily_revenue.orders",)}
    first = lineage.upstream(ColumnRef("daily_revenue", "orders"))[0]
    assert [str(r) for r in first.rows] == ["orders.ordered_at", "orders.status"]
    assert [str(r) for r in lineage.edges["customers"].rows] == ["orders.customer_id", "stg_customers.customer_id"]


def test_lineage_through_star_exclude_using_union_and_column_lists(lineage):
    assert lineage.relations["order_balance"] == [
        "order_id", "customer_id", "status", "amount", "ordered_at", "updated_at", "payment_method", "paid_amount",
        "paid_at", "outstanding"]
    assert paths(lineage, "order_balance.paid_amount") == {  # `*` of the outer query, then `* EXCLUDE` of a CTE
        ("order_balance.paid_amount", "stg_payments.paid_amount", "raw_shop.payments.amount")}
    assert paths(lineage, "order_balance.status") == {
        ("order_balance.status", "stg_orders.status", "raw_shop.orders.status")}
    assert paths(lineage, "order_balance.outstanding") == {
        ("order_balance.outstanding", "stg_orders.amount", "raw_shop.orders.amount"),
        ("order_balance.outstanding", "stg_payments.paid_amount", "raw_shop.payments.amount")}
    assert [str(r) for r in lineage.edges["order_balance"].rows] == ["stg_orders.order_id", "stg_payments.order_id"]
    assert paths(lineage, "order_amounts.total") == {  # both branches of the union, by position
        ("order_amounts.total", "stg_orders.amount", "raw_shop.orders.amount"),
        ("order_amounts.total", "stg_payments.paid_amount", "raw_shop.payments.amount")}
    assert paths(lineage, "order_amounts.order_ref") == {
        ("order_amounts.order_ref", "stg_orders.order_id", "raw_shop.orders.order_id"),
        ("order_amounts.order_ref", "stg_payments.order_id", "raw_shop.payments.order_id")}


def test_downstream_impact_of_raw_columns(lineage):
    amount = lineage.downstream(ColumnRef("raw_shop.orders", "amount"))
    assert [str(c) for c in amount.published] == [
        "customers.lifetime_value", "daily_revenue.revenue", "order_balance.amount", "order_balance.outstanding",
        "orders.amount"]  # order_amounts.total changes too, but it is not published
    assert "order_amounts.total" in [str(c) for c in amount.columns] and amount.row_models == ()
    status = lineage.downstream(ColumnRef("raw_shop.orders", "status"))
    assert status.row_models == ("daily_revenue",)  # WHERE status <> 'cancelled'
    assert [str(c) for c in status.published] == [
        "customers.lifetime_value", "daily_revenue.customers", "daily_revenue.order_date", "daily_revenue.orders",
        "daily_revenue.revenue", "daily_revenue.updated_at", "order_balance.status", "orders.status"]
    # a join key: the rows of every model joining on it change, and so every column of what reads them
    key = lineage.downstream(ColumnRef("raw_shop.payments", "order_id"))
    assert key.row_models == ("order_amounts", "order_balance", "orders")  # order_amounts: GROUP BY
    assert key.rows_changed == ("customers", "daily_revenue", "order_amounts", "order_balance", "orders")
    assert lineage.downstream(ColumnRef("raw_shop.customers", "email")).published == ()


def test_elt_lineage_text_json_and_errors(project_dir):
    up = elt(project_dir, "lineage", "customers.lifetime_value")
    assert up.returncode == 0, up.stderr
    assert up.stdout.splitlines() == [
        "customers.lifetime_value",
        "├─ orders.amount",
        "│  └─ stg_orders.amount",
        "│     └─ raw_shop.orders.amount   raw, loaded by source shop",
        "└─ orders.status",
        "   └─ stg_orders.status",
        "      └─ raw_shop.orders.status   raw, loaded by source shop",
        "rows of customers: filtered, joined or grouped by orders.customer_id, stg_customers.customer_id"]
    down = elt(project_dir, "lineage", "--downstream", "--json", "raw_shop.orders.amount")
    assert down.returncode == 0, down.stderr
    assert json.loads(down.stdout)["published"] == [
        "analytics.customers.lifetime_value", "analytics.daily_revenue.revenue", "analytics.orders.amount"]
    published = elt(project_dir, "lineage", "--json", "analytics.orders.paid_amount")
    assert [s["column"] for s in json.loads(published.stdout)["steps"]] == [
        "orders.paid_amount", "stg_payments.paid_amount", "raw_shop.payments.amount"]
    assert json.loads(published.stdout)["steps"][-1]["source"] == "shop"
    for args, message in ((["custmers.tier"], "error: unknown model or raw table 'custmers' — did you mean "
                                                "customers or stg_customers or raw_shop.customers?"),
                          (["customers.lifetime"], "error: customers has no column 'lifetime' — did you mean "
                                                   "lifetime_value?"),
                          (["--downstream", "raw_shop.order.amount"], "error: unknown model or raw table "
                                                                      "'raw_shop.order'"),
                          (["orders"], "error: 'orders' names no column — write MODEL.COLUMN")):
        wrong = elt(project_dir, "lineage", *args)
        assert wrong.returncode == 1 and wrong.stdout == ""
        assert wrong.stderr.startswith(message) and "Traceback" not in wrong.stderr, wrong.stderr
