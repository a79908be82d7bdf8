"""analyze(): the delta shape of safe incremental models, and a reason for each shape new rows cannot build.

The lint fixture tests/lint/fixtures/incremental_shape.sql checks where L009 points; these check what the
builder gets (driver, alias, key mapping, grouping, origin) and what each refusal says.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from transforms.delta_shape import DeltaShape, ShapeProblem, analyze
from transforms.models import Model, parse_model

MODELS = Path("/project/transforms/models")
INCREMENTAL = "-- materialized: incremental\n"


def project(**files: str) -> dict[str, Model]:
    """Models parsed from text: name -> SQL (with its header)."""
    return {name: parse_model(MODELS / "staging" / f"{name}.sql", MODELS, text=sql) for name, sql in files.items()}


def shape(sql: str, **upstream: str) -> DeltaShape | list[ShapeProblem]:
    models = project(m=sql, **upstream)
    return analyze(models["m"], models)


def problems(sql: str, **upstream: str) -> list[str]:
    found = shape(sql, **upstream)
    assert isinstance(found, list), f"expected a refusal, got {found}"
    return [str(p) for p in found]


def test_filter_and_projection_over_raw_is_appended() -> None:
    assert shape(INCREMENTAL + "select order_id, lower(status) as status from raw_shop.orders where amount > 0") \
        == DeltaShape("raw_shop.orders", "orders", {}, False, "raw_shop.orders")


def test_renamed_key_over_a_join_to_a_dimension() -> None:
    found = shape(INCREMENTAL + "-- unique_key: order_id\n"
                  "select o.id as order_id, c.country from raw_shop.orders as o "
                  "left join raw_shop.customers as c on c.customer_id = o.customer_id")
    assert found == DeltaShape("raw_shop.orders", "o", {"order_id": "id"}, False, "raw_shop.orders")


@pytest.mark.parametrize("sql, keys", [
    ("select order_id, amount from raw_shop.orders", {"order_id": "order_id"}),
    ("select * exclude (_dlt_load_id) from raw_shop.orders", {"order_id": "order_id"}),
    ("select * rename (id as order_id) from raw_shop.orders", {"order_id": "id"}),
    ("select o.*, c.country from raw_shop.orders as o join raw_shop.customers as c using (customer_id)",
     {"order_id": "order_id"}),
    ("select order_id, c.country from raw_shop.orders as o join raw_shop.customers as c using (order_id)",
     {"order_id": "order_id"}),
])
def test_key_is_a_plain_column_of_the_driver(sql: str, keys: dict[str, str]) -> None:
    found = shape(INCREMENTAL + "-- unique_key: order_id\n" + sql)
    assert isinstance(found, DeltaShape) and found.keys == keys


def test_through_a_staging_view_to_its_raw_table() -> None:
    found = shape(INCREMENTAL + "-- unique_key: order_id\nselect s.id as order_id from stg_orders as s",
                  stg_orders="select order_id as id, amount from raw_shop.orders where amount > 0")
    assert found == DeltaShape("stg_orders", "s", {"order_id": "id"}, False, "raw_shop.orders")


def test_over_an_incremental_upstream() -> None:
    upstream = INCREMENTAL + "-- unique_key: order_id\nselect order_id, amount from raw_shop.orders"
    found = shape(INCREMENTAL + "-- unique_key: order_id\nselect order_id from stg_orders where amount > 9",
                  stg_orders=upstream)
    assert found == DeltaShape("stg_orders", "stg_orders", {"order_id": "order_id"}, False, "stg_orders")


@pytest.mark.parametrize("tail", ["group by customer_id", "group by 1", "group by all", "group by cust"])
def test_grouped_by_the_unique_key(tail: str) -> None:
    found = shape(INCREMENTAL + "-- unique_key: cust\n"
                  f"select o.customer_id as cust, sum(o.amount) as revenue from raw_shop.orders as o {tail}")
    assert found == DeltaShape("raw_shop.orders", "o", {"cust": "customer_id"}, True, "raw_shop.orders")


def test_delta_from_names_a_joined_table() -> None:
    found = shape(INCREMENTAL + "-- delta_from: raw_shop.payments\n-- unique_key: payment_id\n"
                  "select p.payment_id, o.customer_id from raw_shop.orders as o "
                  "join raw_shop.payments as p on p.order_id = o.order_id")
    assert found == DeltaShape("raw_shop.payments", "p", {"payment_id": "payment_id"}, False, "raw_shop.payments")


def test_a_view_can_be_analyzed_for_the_builder() -> None:
    models = project(stg_orders="select order_id from raw_shop.orders")
    assert analyze(models["stg_orders"], models) == DeltaShape("raw_shop.orders", "orders", {}, False,
                                                               "raw_shop.orders")


@pytest.mark.parametrize("sql, words", [
    ("select order_id, row_number() over (order by created_at) as n from raw_shop.orders",
     "row_number() is a window function over the whole relation"),
    ("select order_id, sum(amount) filter (where amount > 0) over () as n from raw_shop.orders",
     "sum() is a window function"),
    ("select order_id from raw_shop.orders union all select order_id from raw_shop.payments",
     "the query is a UNION of several SELECTs"),
    ("select order_id from raw_shop.orders except select order_id from raw_shop.payments", "EXCEPT"),
    ("select order_id from raw_shop.orders limit 5", "LIMIT keeps some rows of the whole result"),
    ("select order_id from raw_shop.orders qualify order_id > 1", "QUALIFY filters on window functions"),
    ("select distinct status from raw_shop.orders", "DISTINCT removes duplicates across the whole relation"),
    ("select customer_id, count(*) as n from raw_shop.orders group by 1",
     "count(*) aggregates rows, but only new rows are read"),
    ("select * from raw_shop.orders pivot (sum(amount) for status in ('paid'))", "PIVOT aggregates rows"),
    ("select a.order_id from raw_shop.orders as a join raw_shop.orders as b using (customer_id)",
     "raw_shop.orders is read 2 times"),
    ("select order_id from raw_shop.orders where amount > (select avg(amount) from raw_shop.orders)",
     "raw_shop.orders is read 2 times"),
    ("with r as (select * from raw_shop.orders) select order_id from r", "the outermost FROM reads the CTE r"),
    ("select order_id from (select * from raw_shop.orders) as o", "the outermost FROM reads a subquery"),
    ("select range from range(3)", "the outermost FROM reads a table function"),
    ("select 1 as x", "the outermost FROM reads no table"),
    ("select order_id from raw_shop.orders as o right join raw_shop.customers as c using (customer_id)",
     "raw_shop.orders is on the nullable side of an outer join"),
])
def test_refusals(sql: str, words: str) -> None:
    found = problems(INCREMENTAL + sql)
    assert any(words in p for p in found), found
    assert all("materialized: table" in p or "unique_key" in p for p in found), found


@pytest.mark.parametrize("sql, words", [
    ("select customer_id, sum(amount) as s from raw_shop.orders", "aggregates the whole relation into one row"),
    ("select distinct order_id from raw_shop.orders", "DISTINCT"),
    ("select order_id, count(*) as n from raw_shop.orders group by order_id, status",
     "groups by order_id, status but its unique_key is order_id"),
    ("select order_id, count(*) as n from raw_shop.orders group by cube (order_id)", "CUBE adds subtotal rows"),
    ("select upper(order_id) as order_id from raw_shop.orders", "unique_key order_id is computed (`upper(order_id)`)"),
    ("select c.order_id from raw_shop.orders as o join raw_shop.customers as c on true",
     "unique_key order_id comes from c, not from the driving relation raw_shop.orders"),
    ("select order_id from raw_shop.orders as o join raw_shop.customers as c on true",
     "unique_key order_id is not qualified and the query joins other relations"),
    ("select amount from raw_shop.orders", "unique_key order_id is not an output column of the model (it has amount)"),
    ("select * exclude (order_id) from raw_shop.orders", "unique_key order_id is not an output column"),
    ("select o.order_id from raw_shop.orders as o(order_id, x)", "is read with a column list"),
])
def test_key_refusals(sql: str, words: str) -> None:
    found = problems(INCREMENTAL + "-- unique_key: order_id\n" + sql)
    assert any(words in p for p in found), found


def test_delta_from_must_be_read_by_the_query() -> None:
    found = problems(INCREMENTAL + "-- delta_from: stg_orders\nselect order_id from raw_shop.orders")
    assert found == ["delta_from names stg_orders, but the query reads raw_shop.orders — name one of those in "
                     "`-- delta_from:`, or make it `-- materialized: table`"]


@pytest.mark.parametrize("join", ["left join raw_shop.payments as p", "full join raw_shop.payments as p",
                                  "semi join raw_shop.payments as p"])
def test_delta_from_on_the_wrong_side_of_a_join(join: str) -> None:
    found = problems(INCREMENTAL + "-- delta_from: raw_shop.payments\n"
                     f"select o.order_id from raw_shop.orders as o {join} on p.order_id = o.order_id")
    assert any("nullable side" in p or "only a filter in a SEMI join" in p for p in found), found


def test_driver_read_inside_a_cte_joined_to_the_outer_query() -> None:
    found = problems(INCREMENTAL + "-- delta_from: raw_shop.payments\n"
                     "with p as (select order_id from raw_shop.payments) "
                     "select o.order_id from raw_shop.orders as o join p using (order_id)")
    assert any("raw_shop.payments is read inside the CTE p" in p for p in found), found


def test_a_table_model_has_no_new_rows() -> None:
    found = problems(INCREMENTAL + "select order_id from orders",
                     orders="-- materialized: table\nselect order_id from raw_shop.orders")
    assert found[0].startswith("orders is a `table` model: it is rebuilt whole every run")


def test_a_view_that_aggregates_cannot_drive() -> None:
    found = problems(INCREMENTAL + "select day, revenue from stg_daily",
                     stg_daily="select created_at::date as day, sum(amount) as revenue from raw_shop.orders group by 1")
    assert found[0].startswith("stg_daily is a view that cannot pass on only new rows: sum(amount) aggregates")


def test_a_view_over_a_table_model_cannot_drive() -> None:
    found = problems(INCREMENTAL + "select order_id from stg_orders", stg_orders="select order_id from orders",
                     orders="-- materialized: table\nselect order_id from raw_shop.orders")
    assert found[0].startswith("stg_orders is a view that cannot pass on only new rows: orders is a `table` model")


def test_appending_the_new_rows_of_a_merging_upstream_keeps_old_versions() -> None:
    upstream = INCREMENTAL + "-- unique_key: order_id\nselect order_id, amount from raw_shop.orders"
    found = problems(INCREMENTAL + "select order_id from stg_orders", stg_orders=upstream)
    assert found[0].startswith("stg_orders replaces rows by order_id, so its new rows include new versions")


def test_views_reading_each_other_do_not_loop() -> None:
    found = problems(INCREMENTAL + "select x from a", a="select x from b", b="select x from a")
    assert any("a dependency cycle" in p for p in found), found


def test_every_problem_is_reported_with_its_node() -> None:
    found = shape(INCREMENTAL + "select order_id, lag(amount) over () as previous from raw_shop.orders limit 3")
    assert isinstance(found, list) and [type(p.node).__name__ for p in found] == ["Window", "Limit"]
