"""The whole path on real DuckDB files, run as the Prefect flow against a real (test) Prefect API."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from elt import warehouse
from elt.config import load_project
from elt.errors import GateError, WarehouseBusyError
from sources import runner
from sources.shop import Shop, _us
from tests.conftest import T2
from tests.helpers import answers, published, query, row_count, warehouse_path

pytestmark = pytest.mark.usefixtures("prefect_server")


def run(project_dir):
    from flows.elt_flow import elt_pipeline

    return elt_pipeline(project_dir=str(project_dir))


def expected_orders(at: str) -> int:
    shop = Shop(datetime(2026, 1, 1, tzinfo=timezone.utc), 6, 24)
    hi = _us(datetime.fromisoformat(at.replace("Z", "+00:00")))
    return shop.orders_window(_us(datetime(2025, 12, 31, tzinfo=timezone.utc)), hi).num_rows


def test_extract_twice_loads_only_changes(any_project, monkeypatch):
    project = load_project(any_project)
    source, target = project.sources["shop"], project.target()
    first = runner.load(project, source, target)
    assert first.rows["orders"] == expected_orders("2026-01-10T00:00:00Z")
    monkeypatch.setenv("ELT_NOW", T2)
    second = runner.load(project, source, target)
    assert 0 < second.rows["orders"] < first.rows["orders"] / 5, "only new and changed orders"
    assert second.cursors["orders"] > first.cursors["orders"]
    total, distinct = query(any_project, "select count(*), count(distinct order_id) from raw_shop.orders")[0]
    assert total == distinct == expected_orders(T2)
    third = runner.load(project, source, target)
    assert third.total_rows == 0


def test_run_builds_verifies_and_publishes_everything(any_project):
    summary = run(any_project)
    assert summary.gate.passed and summary.gate.summary["failed"] == 0 and summary.gate.summary["checks"] >= 20
    assert {b.status for b in summary.builds} == {"built"}
    assert set(published(any_project)) == {"orders", "customers", "daily_revenue"}
    views = query(any_project, "select table_name from information_schema.tables where table_schema = 'analytics'")
    assert sorted(v[0] for v in views) == ["customers", "daily_revenue", "orders"], "staging stays internal"
    assert row_count(any_project, "analytics.orders") == expected_orders("2026-01-10T00:00:00Z")
    # consumers read stable names; versions live where they do not look
    relation = published(any_project)["orders"]
    assert relation.startswith("_elt.orders__")
    assert query(any_project, "select count(*) from _elt.publications")[0][0] == 1

def test_second_run_without_changes_rebuilds_nothing(any_project):
    run(any_project)
    before = answers(any_project)
    again = run(any_project)
    assert {b.status for b in again.builds} == {"skipped"}
    assert again.publication is None and sum(load.total_rows for load in again.loads) == 0
    assert answers(any_project) == before


def test_new_data_rebuilds_and_publishes_atomically(any_project, monkeypatch):
    run(any_project)
    first = published(any_project)
    monkeypatch.setenv("ELT_NOW", T2)
    summary = run(any_project)
    assert summary.publication.id == 2
    second = published(any_project)
    assert all(first[m] != second[m] for m in first), "every model read changed raw data"
    assert row_count(any_project, "analytics.orders") == expected_orders(T2)


def _tamper(project_dir, sql: str) -> None:
    """A bad load: rows written under a new dlt load id, as a broken source would."""
    wh = warehouse.connect(load_project(project_dir).target())
    wh.execute(sql)
    wh.close()


def test_bad_source_data_is_blocked_and_published_answers_stay(any_project):
    run(any_project)
    before = answers(any_project)
    _tamper(any_project, "insert into raw_shop.orders select order_id + 1000000, customer_id, 'refunded', amount, "
                         "created_at, updated_at, '9999999999.1' from raw_shop.orders limit 3")
    from flows.elt_flow import elt_pipeline

    state = elt_pipeline(project_dir=str(any_project), return_state=True)
    assert state.is_failed()
    with pytest.raises(GateError) as err:
        state.result()
    report = str(err.value)
    assert "orders: invalid on status: FAILED, measured 3, threshold = 0" in report
    assert "nothing was published" in report
    assert answers(any_project) == before
    artifacts = _artifacts(state.state_details.flow_run_id)
    explanation = artifacts["gate-failed"].data
    assert report in explanation and "Fix the data or the model" in explanation
    rows = artifacts["run-summary"].data
    rows = rows if isinstance(rows, list) else json.loads(rows)
    assert rows[-1]["result"] == "blocked: nothing was published"
    assert query(any_project, "select count(*) from _elt.publications")[0][0] == 1
    failed = query(any_project, "select model, check_name, column_name, value from _elt.check_results "
                                "where not published and outcome = 'FAILED' order by check_name")
    assert [row[:3] for row in failed] == [("orders", "freshness", "updated_at"), ("orders", "invalid", "status")]
    assert failed[1][3] == 3 and query(any_project, "select count(distinct run_id) from _elt.check_results") == [(2,)]
    [(total, values, rows)] = query(any_project, "select total, offending_values, sample_rows from _elt.failed_rows "
                                                 "where check_name = 'invalid'")
    assert total == 3 and len(json.loads(rows)) == 3 and sum(n for _, n in json.loads(values)) == 3


def test_model_change_that_duplicates_keys_is_blocked(any_project):
    run(any_project)
    before = answers(any_project)
    orders = any_project / "transforms" / "models" / "marts" / "orders.sql"
    orders.write_text(orders.read_text().replace(
        "left join stg_payments as p on p.order_id = o.order_id",
        "left join stg_payments as p on p.order_id = o.order_id or p.order_id = o.order_id + 1"))
    with pytest.raises(GateError) as err:
        run(any_project)
    assert "orders: duplicate on order_id: FAILED" in str(err.value)
    assert answers(any_project) == before


def test_rollback_restores_previous_answers(any_project, monkeypatch):
    from elt import publish

    run(any_project)
    first = answers(any_project)
    monkeypatch.setenv("ELT_NOW", T2)
    run(any_project)
    assert answers(any_project) != first
    project = load_project(any_project)
    con = warehouse.connect(project.target())
    restored = publish.rollback(con, "analytics", "test")
    con.close()
    assert restored.restores == 1
    assert answers(any_project) == first


def test_one_writer_at_a_time(any_project):
    """A live holder of the warehouse lock (here a writer outside any flow) is waited for, never taken over."""
    from flows.elt_flow import elt_pipeline

    target = load_project(any_project).target()
    with warehouse.exclusive(target, who="a backfill"):
        with pytest.raises(WarehouseBusyError, match=r"waited 1s for warehouse \w+, held by a backfill, pid"):
            elt_pipeline(project_dir=str(any_project), wait_for_warehouse_seconds=1)
        with pytest.raises(WarehouseBusyError, match="is in use by a backfill, pid"):
            with warehouse.exclusive(target):
                pass


def _artifacts(flow_run_id) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {artifact_kind(a.key): a for a in artifacts}


def artifact_kind(key: str | None) -> str | None:
    """`run-summary` of `shop-demo-dev-run-summary`: artifact keys carry the project and target."""
    return next((kind for kind in ("run-summary", "gate-failed", "progress") if key and key.endswith(kind)), key)


def test_run_summary_artifact_is_readable_through_the_api(any_project):
    summary = run(any_project)
    table = _artifacts(summary.run_id)["run-summary"]
    rows = table.data if isinstance(table.data, list) else json.loads(table.data)
    loaded = {r["name"]: r["result"] for r in rows if r["step"] == "load"}
    assert loaded["raw_shop.orders"] == f"{expected_orders('2026-01-10T00:00:00Z')} rows"
    assert {r["name"]: r["result"] for r in rows if r["step"] == "build"}["orders"] == "built"
    checks = [r for r in rows if r["step"] == "check"]
    assert len(checks) == summary.gate.summary["checks"] and all(r["result"] == "PASSED" for r in checks)
    assert any(r["name"] == "orders: duplicate (order_id)" and "threshold = 0" in r["detail"] for r in checks)


def test_extraction_is_retried_until_the_warehouse_is_free(project_dir):
    """A transient failure (another process holds the DuckDB file) is retried with backoff, losing nothing."""
    import subprocess
    import sys

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    path = warehouse_path(project_dir)
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
        "time.sleep(3); c.close()"), str(path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    summary = run(project_dir)
    holder.wait()
    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[summary.run_id])))
    extract = next(t for t in tasks if t.name == "extract-shop")
    assert extract.run_count >= 2, "the first attempt met the locked file"
    assert summary.gate.passed
    total, distinct = query(project_dir, "select count(*), count(distinct order_id) from raw_shop.orders")[0]
    assert total == distinct == expected_orders("2026-01-10T00:00:00Z")


def test_long_history_loads_in_chunks_each_row_once(project_dir, monkeypatch):
    monkeypatch.setenv("ELT_NOW", "2026-03-15T00:00:00Z")
    project = load_project(project_dir)
    result = runner.load(project, project.sources["shop"], project.target())
    for table, key in (("orders", "order_id"), ("customers", "customer_id"), ("payments", "payment_id")):
        total, distinct = query(project_dir, f"select count(*), count(distinct {key}) from raw_shop.{table}")[0]
        assert result.rows[table] == total == distinct, table


def test_only_taking_the_warehouse_lock_can_say_the_warehouse_is_busy(tmp_path):
    """A lock that is busy inside a writer's own work (a pipeline's, say) is reported as itself."""
    from elt import filelock
    from elt.config import Target

    target = Target(name="dev", type="duckdb", path=tmp_path / "w.duckdb")
    with pytest.raises(filelock.Busy):
        with warehouse.exclusive(target):
            raise filelock.Busy("a pipeline's holder")
