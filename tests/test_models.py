from pathlib import Path

import pytest

from elt.errors import CycleError, ModelError
from transforms.graph import dependencies, find_cycle, topological_order
from transforms.models import parse_model


def model(tmp_path: Path, rel: str, sql: str):
    path = tmp_path / "models" / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(sql)
    return parse_model(path, tmp_path / "models")


def test_config_header_and_references(tmp_path):
    m = model(tmp_path, "marts/orders.sql", """-- materialized: table
-- description: Orders.
-- A free comment line is fine.
-- Note: so is one that reads like a key.
-- tags: mart, finance
with recent as (select * from raw_shop.orders)
select r.order_id, c.name from recent r join stg_customers c using (customer_id), range(3) t(i)
""")
    assert (m.name, m.layer, m.materialized, m.description, m.tags) == (
        "orders", "marts", "table", "Orders.", ("mart", "finance"))
    assert sorted(r.key for r in m.refs) == ["raw_shop.orders", "stg_customers"]
    assert m.model_refs == ("stg_customers",)
    located = {r.key: (r.location.line, r.location.col) for r in m.refs}
    assert located["raw_shop.orders"] == (6, 31)


def test_defaults_to_view(tmp_path):
    assert model(tmp_path, "staging/a.sql", "select 1 as x").materialized == "view"


@pytest.mark.parametrize("sql, fragment, line", [
    ("-- materialized: tabel\nselect 1", "materialized must be one of view, table", 1),
    ("-- a: b\n-- materialised: table\nselect 1", "unknown config key 'materialised' — did you mean materialized?", 2),
    ("select 1 as x\nfrom (select 2", "syntax error", 2),
    ("select 1; select 2", "exactly one SELECT", 1),
    ("delete from t", "exactly one SELECT", 1),
    ("-- materialized: incremental\n-- unique_key: order id\nselect 1 as x", "unique_key must name output columns", 2),
    ("-- materialized: incremental\n-- unique_key:\nselect 1 as x", "unique_key must name output columns", 2),
    ("-- materialized: incremental\n-- delta_from: raw.a.b\nselect 1 as x", "delta_from must name a model or", 2),
    ("-- materialized: table\n-- unique_key: x\nselect 1 as x", "unique_key applies only to incremental models", 1),
])

def test_bad_models_point_at_the_line(tmp_path, sql, fragment, line):
    with pytest.raises(ModelError) as err:
        model(tmp_path, "staging/bad.sql", sql)
    assert fragment in str(err.value)
    assert err.value.where.line == line


def test_incremental_header(tmp_path):
    m = model(tmp_path, "marts/facts.sql", "-- materialized: incremental\n-- unique_key: Order_ID, line\n"
                                          "-- delta_from: RAW_shop.Orders\nselect 1 as order_id, 2 as line")
    assert (m.materialized, m.unique_key, m.delta_from) == ("incremental", ("order_id", "line"), "raw_shop.orders")


@pytest.mark.parametrize("sql", ["", "  \n\n", "-- materialized: table\n-- description: nothing yet\n"])
def test_a_model_without_sql_says_so(tmp_path, sql):
    with pytest.raises(ModelError) as err:
        model(tmp_path, "staging/empty.sql", sql)
    assert "the model has no SQL — write one SELECT query" in str(err.value) and err.value.where.line == 1


@pytest.mark.parametrize("data, where, fragment", [
    (b"select 1 as x,\n  'caf\xe9' as y", (2, 7), "byte 0xe9 is not UTF-8"),
    ("select 'café' as x".encode("utf-8") + b", '\x92' as y", (1, 22), "byte 0x92 is not UTF-8"),
    ("select 1 as x".encode("utf-16"), (1, 1), "the file is UTF-16, not UTF-8"),
])
def test_a_byte_that_is_not_utf8_is_located(tmp_path, data, where, fragment):
    path = tmp_path / "models" / "staging" / "latin.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    with pytest.raises(ModelError) as err:
        parse_model(path, tmp_path / "models")
    assert (err.value.where.line, err.value.where.col) == where
    assert fragment in str(err.value) and str(err.value).endswith(" — save it as UTF-8")


def test_a_byte_order_mark_is_not_part_of_the_sql(tmp_path):
    path = tmp_path / "models" / "staging" / "bom.sql"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xef\xbb\xbf-- materialized: table\nselect 1 as x")
    assert parse_model(path, tmp_path / "models").materialized == "table"


def test_model_name_must_be_an_identifier(tmp_path):
    with pytest.raises(ModelError, match="not a valid identifier"):
        model(tmp_path, "staging/my-model.sql", "select 1")


def test_topological_order_is_deterministic(tmp_path):
    models = {m.name: m for m in [
        model(tmp_path, "m/c.sql", "select * from a join b using (x)"),
        model(tmp_path, "m/b.sql", "select * from a"),
        model(tmp_path, "m/a.sql", "select 1 as x"),
        model(tmp_path, "m/z.sql", "select 1 as x"),
    ]}
    assert topological_order(models) == ["a", "z", "b", "c"]


def test_cycle_is_named(tmp_path):
    models = {m.name: m for m in [
        model(tmp_path, "m/a.sql", "select * from b"),
        model(tmp_path, "m/b.sql", "select * from c"),
        model(tmp_path, "m/c.sql", "select * from a"),
        model(tmp_path, "m/d.sql", "select * from a"),
    ]}
    cycle = find_cycle(dependencies(models))
    assert len(cycle) == 4 and cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    with pytest.raises(CycleError) as err:
        topological_order(models)
    assert "dependency cycle: " + " -> ".join(cycle) in str(err.value)
    # each arrow is "reads": a -> b means a reads b
    for reader, read in zip(cycle, cycle[1:], strict=False):
        assert read in models[reader].model_refs
