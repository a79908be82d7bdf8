from tests.test_models import model
from transforms.fingerprint import fingerprint, version_key

BASE = "-- materialized: table\nselect order_id, sum(amount) as total from raw_shop.orders group by order_id\n"


def fp(tmp_path, sql, upstream=()):
    return fingerprint(model(tmp_path, "marts/m.sql", sql), list(upstream))


def test_formatting_comments_and_keyword_case_do_not_change_it(tmp_path):
    same = [
        "-- materialized: table\nSELECT order_id,\n       SUM(amount) AS total\n"
        "FROM raw_shop.orders\nGROUP BY order_id",
        "-- materialized: table\n-- description: now documented\n-- tags: x\nselect order_id, sum(amount) as total "
        "/* why */ from raw_shop.orders   group by order_id;",
    ]
    assert {fp(tmp_path, s) for s in same} == {fp(tmp_path, BASE)}


def test_semantic_changes_change_it(tmp_path):
    base = fp(tmp_path, BASE)
    for changed in (
        BASE.replace("sum(amount)", "max(amount)"),
        BASE.replace("as total", "as amount_total"),
        BASE.replace("-- materialized: table", "-- materialized: view"),
        BASE.replace("group by order_id", "where status <> 'x' group by order_id"),
    ):
        assert fp(tmp_path, changed) != base, changed
    assert fp(tmp_path, BASE, ["upstream-a"]) != fp(tmp_path, BASE, ["upstream-b"])


def test_version_key_follows_inputs():
    assert version_key("f", ["raw@1", "up"]) == version_key("f", ["up", "raw@1"])
    assert version_key("f", ["raw@1"]) != version_key("f", ["raw@2"])
