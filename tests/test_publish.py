"""The publish layer on a real DuckDB file and a real Postgres database: atomic promotion, history,
rollback, janitor."""
import duckdb
import psycopg
import pytest

from elt import publish
from elt.errors import PublishError
from tests.conftest import warehouse_target


@pytest.fixture(params=["duckdb", "postgres"])
def con(request, tmp_path, monkeypatch):
    with warehouse_target(request.param, tmp_path, monkeypatch) as target:
        from elt import warehouse

        con = warehouse.connect(target)
        con.execute("create schema _elt")
        for model, version, value in [("a", "v1", 1), ("b", "v1", 10), ("a", "v2", 2), ("b", "v2", 20),
                                      ("a", "v3", 3)]:
            con.execute(f"create table _elt.{model}__{version} as select {value} as x")
        yield con
        con.close()


def answers(con):
    return {m: con.execute(f"select x from analytics.{m}").fetchone()[0] for m in ("a", "b")}


def test_publish_records_and_points(con):
    first = publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {"checks": 2})
    assert first.id == 1 and first.kind == "publish" and answers(con) == {"a": 1, "b": 10}
    assert publish.publish(con, "analytics", "r2", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {}) is None
    second = publish.publish(con, "analytics", "r3", {"a": "_elt.a__v2", "b": "_elt.b__v2"}, {})
    assert second.id == 2 and answers(con) == {"a": 2, "b": 20}
    assert [p.run_id for p in publish.history(con)] == ["r3", "r1"]


def test_failed_publication_changes_nothing(con):
    publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {})
    with pytest.raises((duckdb.Error, psycopg.Error)):
        # "a" is re-pointed first, then "b" fails: the transaction must undo "a" too
        publish.publish(con, "analytics", "r2", {"a": "_elt.a__v2", "b": "_elt.b__missing"}, {})
    assert answers(con) == {"a": 1, "b": 10}
    assert len(publish.history(con)) == 1


def test_rollback_walks_back_and_never_recomputes(con):
    publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {})
    publish.publish(con, "analytics", "r2", {"a": "_elt.a__v2", "b": "_elt.b__v2"}, {})
    publish.publish(con, "analytics", "r3", {"a": "_elt.a__v3", "b": "_elt.b__v2"}, {})
    back = publish.rollback(con, "analytics", "undo1")
    assert (back.kind, back.restores) == ("rollback", 2) and answers(con) == {"a": 2, "b": 20}
    again = publish.rollback(con, "analytics", "undo2")
    assert again.restores == 1 and answers(con) == {"a": 1, "b": 10}
    with pytest.raises(PublishError, match="nothing to roll back to"):
        publish.rollback(con, "analytics", "undo3")
    assert answers(con) == {"a": 1, "b": 10}


def test_rollback_drops_names_that_did_not_exist(con):
    publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1"}, {})
    publish.publish(con, "analytics", "r2", {"a": "_elt.a__v2", "b": "_elt.b__v2"}, {})
    publish.rollback(con, "analytics", "undo")
    views = con.execute("select table_name from information_schema.tables where table_schema = 'analytics'")
    assert [r[0] for r in views.fetchall()] == ["a"]


def test_nothing_to_roll_back(con):
    with pytest.raises(PublishError, match="nothing has been published"):
        publish.rollback(con, "analytics", "undo")


def test_janitor_keeps_what_rollback_needs(con):
    publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {})
    publish.publish(con, "analytics", "r2", {"a": "_elt.a__v2", "b": "_elt.b__v2"}, {})
    publish.publish(con, "analytics", "r3", {"a": "_elt.a__v3", "b": "_elt.b__v2"}, {})
    dropped = publish.janitor(con, keep=2, protect=set())
    assert sorted(dropped) == ["_elt.a__v1", "_elt.b__v1"]
    assert publish.rollback(con, "analytics", "undo").restores == 2
    with pytest.raises(PublishError, match="can no longer be restored"):
        publish.rollback(con, "analytics", "undo")


def test_records_of_another_layout_are_refused(con):
    publish.ensure_tables(con)
    con.execute("update _elt.meta set value = '99' where key = 'layout_version'")
    with pytest.raises(PublishError, match="layout 99; this toolkit reads layout 1"):
        publish.history(con)


def test_rollback_after_rollback_and_new_publication_skips_the_undone_one(con):
    """1, 2 (bad), rollback to 1, 4, rollback: back to 1 — never to the publication that was rolled back."""
    publish.publish(con, "analytics", "r1", {"a": "_elt.a__v1", "b": "_elt.b__v1"}, {})
    publish.publish(con, "analytics", "r2", {"a": "_elt.a__v2", "b": "_elt.b__v2"}, {})
    assert publish.rollback(con, "analytics", "undo1").restores == 1
    publish.publish(con, "analytics", "r4", {"a": "_elt.a__v3", "b": "_elt.b__v1"}, {})
    assert publish.rollback(con, "analytics", "undo2").restores == 1
    assert answers(con) == {"a": 1, "b": 10}
