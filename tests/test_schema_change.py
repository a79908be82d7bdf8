"""Schema change of a published model, on DuckDB and Postgres: an added column passes and is reported; a removed
or retyped one fails the gate unless the model's header allows it."""
from __future__ import annotations

import pytest

from elt.errors import GateError
from tests.helpers import published, query

pytestmark = pytest.mark.usefixtures("prefect_server")


def schema_outcomes(report) -> list:
    return [o for o in report.outcomes if o.check == "schema_change"]


def test_removing_or_retyping_a_published_column_blocks_unless_allowed(any_project):
    from flows.elt_flow import elt_pipeline

    model = any_project / "transforms" / "models" / "marts" / "daily_revenue.sql"
    original = model.read_text()
    # its contract lists the columns (Soda's own schema check); the toolkit's check needs no contract at all
    (any_project / "checks" / "contracts" / "daily_revenue.yml").unlink()
    assert schema_outcomes(elt_pipeline(project_dir=str(any_project)).gate) == [], "a first publication: no change"

    model.write_text(original.replace("sum(amount) as revenue,", "sum(amount) as revenue, min(amount) as smallest,"))
    added = elt_pipeline(project_dir=str(any_project))
    [outcome] = schema_outcomes(added.gate)
    assert outcome.model == "daily_revenue" and outcome.outcome == "PASSED" and "added: smallest" in outcome.threshold
    assert added.publication is not None

    model.write_text(original.replace("count(distinct customer_id) as customers,", "")
                     .replace("count(*) as orders,", "cast(count(*) as varchar) as orders,"))
    before = published(any_project)
    with pytest.raises(GateError) as blocked:
        elt_pipeline(project_dir=str(any_project))
    [outcome] = schema_outcomes(blocked.value.report)
    assert outcome.outcome == "FAILED" and "removed: customers, smallest" in outcome.threshold
    assert "retyped: orders (bigint -> " in outcome.threshold and published(any_project) == before

    model.write_text("-- schema_change: allow\n" + model.read_text())
    allowed = elt_pipeline(project_dir=str(any_project))
    [outcome] = schema_outcomes(allowed.gate)
    assert outcome.outcome == "PASSED" and "allowed (schema_change: allow)" in outcome.threshold
    columns = query(any_project, "select column_name from information_schema.columns where table_schema = "
                                 "'analytics' and table_name = 'daily_revenue' order by ordinal_position")
    assert [c[0] for c in columns] == ["order_date", "orders", "revenue", "updated_at"]
