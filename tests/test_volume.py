"""Volume change (`elt: {volume_change: 0.2}` in a contract): the candidate's row count against the version
published now, on DuckDB and Postgres, through the flow and a real Prefect API."""
from __future__ import annotations

from pathlib import Path

import pytest

from elt.errors import GateError
from tests.helpers import published, query

pytestmark = pytest.mark.usefixtures("prefect_server")

CONTRACT = """columns:
  - name: order_id
elt:
  volume_change: 0.2
"""


def write_sample(project: Path, kept_of_20: int) -> None:
    """A model keeping `kept_of_20` orders in every 20: its row count moves as the number does."""
    (project / "transforms" / "models" / "marts" / "sample_orders.sql").write_text(
        f"-- materialized: table\nselect order_id from stg_orders where order_id % 20 < {kept_of_20}\n")


def volume(summary_or_report) -> object:
    return next(o for o in summary_or_report.outcomes if o.model == "sample_orders" and o.check == "volume_change")


def test_a_volume_drop_beyond_the_limit_blocks_and_shows_both_counts(any_project):
    from flows.elt_flow import elt_pipeline

    (any_project / "checks" / "contracts" / "sample_orders.yml").write_text(CONTRACT)
    write_sample(any_project, 20)
    first = elt_pipeline(project_dir=str(any_project))
    rows = query(any_project, "select count(*) from analytics.sample_orders")[0][0]
    check = volume(first.gate)
    assert check.outcome == "PASSED" and f"first publication ({rows} rows): nothing to compare with" in check.threshold

    write_sample(any_project, 18)  # -10 %: within the limit
    second = elt_pipeline(project_dir=str(any_project))
    check = volume(second.gate)
    kept = query(any_project, "select count(*) from analytics.sample_orders")[0][0]
    assert check.outcome == "PASSED" and abs(check.value + 0.1) < 0.02 and f"({rows} rows published, {kept} now)" \
        in check.threshold

    write_sample(any_project, 13)  # -28 % of the 18 in 20 published now
    before = published(any_project)
    with pytest.raises(GateError) as blocked:
        elt_pipeline(project_dir=str(any_project))
    check = volume(blocked.value.report)
    assert check.outcome == "FAILED" and check.value < -0.2 and f"({kept} rows published, " in check.threshold
    assert "sample_orders: volume_change: FAILED" in str(blocked.value)
    assert published(any_project) == before, "nothing was published"
