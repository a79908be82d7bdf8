"""Freshness SLAs of sources (`freshness_hours`, `freshness_block` in elt.toml), on DuckDB and Postgres: a stale
source is reported and emits `elt.freshness.breached` (read back from a real Prefect server), and blocks the
publication when its SLA says so."""
from __future__ import annotations

from pathlib import Path

import pytest

from elt.errors import GateError
from tests.helpers import query
from tests.test_deploy import wait_for_event

pytestmark = pytest.mark.usefixtures("prefect_server")


def set_sla(project: Path, lines: str) -> None:
    """SLA keys on the demo's shop source (its newest order is ~2 minutes before the fixture's clock)."""
    config = project / "elt.toml"
    config.write_text(config.read_text().replace('kind = "demo_shop"', f'kind = "demo_shop"\n{lines}', 1))


def breaches(report) -> list:
    return [o for o in report.outcomes if o.check == "freshness_sla" and o.outcome != "PASSED"]


def test_a_fresh_source_passes(any_project):
    from flows.elt_flow import elt_pipeline

    set_sla(any_project, "freshness_hours = 1")
    summary = elt_pipeline(project_dir=str(any_project))
    slas = [o for o in summary.gate.outcomes if o.check == "freshness_sla"]
    assert {o.column for o in slas} == {"customers", "orders", "payments"} and {o.outcome for o in slas} == {"PASSED"}
    assert summary.publication is not None


def test_a_stale_source_is_reported_and_emits_an_event(any_project):
    from flows.elt_flow import elt_pipeline

    set_sla(any_project, "freshness_hours = 0.001")  # 3.6 s: every table is older
    summary = elt_pipeline(project_dir=str(any_project))
    assert summary.publication is not None, "without freshness_block the run still publishes"
    stale = breaches(summary.gate)
    assert {o.column for o in stale} == {"customers", "orders", "payments"}
    assert {o.outcome for o in stale} == {"WARN"} and all(o.value > 0.001 for o in stale)
    event = wait_for_event("elt.freshness.breached", summary.run_id)
    assert event.payload["dataset"] == "raw_shop" and event.payload["resource"] in {"customers", "orders", "payments"}
    assert event.payload["age_hours"] > 0.001 and event.payload["blocks"] is False
    assert event.payload["summary"].startswith("shop_demo on ") and ": raw_shop." in event.payload["summary"]
    assert "hours old, beyond its SLA of 0.001 hours" in event.payload["summary"]


def test_a_stale_source_with_freshness_block_publishes_nothing(any_project):
    from flows.elt_flow import elt_pipeline

    set_sla(any_project, "freshness_hours = 0.001\nfreshness_block = true")
    with pytest.raises(GateError) as blocked:
        elt_pipeline(project_dir=str(any_project))
    assert {o.outcome for o in breaches(blocked.value.report)} == {"FAILED"}
    assert "raw_shop: freshness_sla on orders: FAILED" in str(blocked.value)
    assert query(any_project, "select count(*) from information_schema.tables where table_schema = 'analytics'") \
        == [(0,)], "nothing was published"


def test_a_table_without_a_time_cursor_is_aged_by_the_last_successful_load(tmp_path):
    """An id cursor says nothing about time: the source's last successful load (dlt's `_dlt_loads`) does."""
    from datetime import datetime, timezone

    from checks.freshness_sla import freshness_sla
    from elt import warehouse
    from elt.config import Source, Target
    from elt.source_config import Freshness
    from sources.runner import LoadResult

    wh = warehouse.connect(Target(name="dev", type="duckdb", path=tmp_path / "w.duckdb"))
    try:
        wh.execute("create schema raw_app")
        wh.execute("create table raw_app._dlt_loads (load_id varchar, status bigint, inserted_at timestamptz)")
        wh.execute("insert into raw_app._dlt_loads values ('1', 0, '2026-01-09 20:00:00+00'), "
                   "('2', 1, '2026-01-09 23:00:00+00')")  # status 1: not a successful load
        load = LoadResult("app", "raw_app", {"orders": 0, "items": 0}, {"orders": "1296", "items": "17"})
        outcomes = freshness_sla(wh, {"app": Source("app", "python", freshness=Freshness(3.0))}, [load],
                                 datetime(2026, 1, 10, tzinfo=timezone.utc))
    finally:
        wh.close()
    assert [(o.column, o.outcome, o.value) for o in outcomes] == [("items", "WARN", 4.0), ("orders", "WARN", 4.0)]
