"""What a data engineer reads of a run in the Prefect UI, read back from a real Prefect server."""
from __future__ import annotations

import re
import time

import pytest

from tests.test_model_tasks import task_runs

pytestmark = pytest.mark.usefixtures("prefect_server")

DLT_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\|\[")  # dlt's own log format


def run_logs(flow_run_id, expect: str, timeout: float = 30) -> list[str]:
    """Messages the server stored for a flow run, once one containing `expect` arrived (logs are batched)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                                    limit=200)
            messages = [log.message for log in logs]
            if any(expect in m for m in messages) or time.monotonic() > deadline:
                return messages


def test_stored_messages_carry_no_dlt_format_dlts_own_included(project_dir):
    """dlt puts its format on the first handler of its logger; Prefect's API handler (one for every Prefect
    logger) must keep plain messages: the toolkit's, Prefect's and dlt's records alike."""
    from prefect import flow

    from flows.elt_flow import elt_pipeline

    summary = elt_pipeline(project_dir=str(project_dir))

    @flow(name="dlt-speaks")
    def dlt_speaks() -> str:
        from dlt.common import logger
        from prefect.runtime import flow_run

        logger.warning("a warning from dlt")
        return str(flow_run.id)

    for run_id, expect in ((summary.run_id, "Finished in state Completed()"), (dlt_speaks(), "a warning from dlt")):
        messages = run_logs(run_id, expect)
        assert expect in messages, messages
        assert not [m for m in messages if DLT_PREFIX.match(m) or "|[INFO]|" in m or "|[WARNING]|" in m], messages
    assert "extract shop: started" in run_logs(summary.run_id, "extract shop: started")


@pytest.mark.parametrize("tasks", ["per model", "per wave"])
def test_a_blocked_run_is_red_where_it_failed(project_dir, monkeypatch, tasks):
    """The verify task of the failing model is Failed, with the check in its state message; the others are
    Completed; publish is there, not run (Cancelled), saying why."""
    from flows import model_tasks
    from flows.elt_flow import elt_pipeline

    if tasks == "per wave":
        monkeypatch.setattr(model_tasks, "PER_MODEL_TASKS", 0)
    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 10000000"))
    state = elt_pipeline(project_dir=str(project_dir), return_state=True)
    assert state.is_failed()
    failing, passing = ("verify-orders", "verify-customers") if tasks == "per model" else \
        ("verify-wave-2", "verify-wave-3")  # the demo's waves: staging, orders, then customers and daily_revenue
    found = task_runs(state.state_details.flow_run_id, {failing, passing, "publish"})
    assert found[failing].state.is_failed(), found[failing].state
    assert "orders" in found[failing].state.message or tasks == "per model"
    assert "row_count: FAILED, measured" in found[failing].state.message
    assert "threshold > 10000000" in found[failing].state.message
    assert found[passing].state.is_completed()
    assert found["publish"].state.is_cancelled()
    assert found["publish"].state.message.startswith("not run: 1 of 25 check(s) did not pass")


def artifacts_of(flow_run_id) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id])))
    return {a.key: a for a in found}


def test_artifacts_name_their_project_and_list_failures_first(project_dir, tmp_path):
    """Two projects on one server keep their own artifacts; the summary reads: failures first, every table's
    cursor (also with nothing new), units as the contract wrote them, counts in agreeing words."""
    import json
    import shutil

    from elt.errors import GateError
    from flows.elt_flow import elt_pipeline

    other = tmp_path / "other"
    shutil.copytree(project_dir, other)
    (other / "elt.toml").write_text((other / "elt.toml").read_text().replace('name = "shop_demo"', 'name = "books"'))
    first = elt_pipeline(project_dir=str(project_dir))
    assert set(artifacts_of(first.run_id)) == {"shop-demo-dev-run-summary", "shop-demo-dev-progress"}
    assert "books-dev-run-summary" in artifacts_of(elt_pipeline(project_dir=str(other)).run_id)

    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 10000000"))
    state = elt_pipeline(project_dir=str(project_dir), return_state=True)
    with pytest.raises(GateError):
        state.result()
    found = artifacts_of(state.state_details.flow_run_id)
    assert "Publication blocked: shop_demo on dev" in found["shop-demo-dev-gate-failed"].data
    rows = found["shop-demo-dev-run-summary"].data
    rows = rows if isinstance(rows, list) else json.loads(rows)
    assert rows[0]["step"] == "check" and rows[0]["result"] == "FAILED" and rows[0]["name"] == "orders: row_count"
    loads = {r["name"]: r for r in rows if r["step"] == "load"}
    assert {"raw_shop.orders", "raw_shop.customers", "raw_shop.payments"} <= set(loads)
    assert all(r["result"] == "nothing new" and r["detail"].startswith("cursor 20") for r in loads.values())
    freshness = [r for r in rows if r["name"].startswith("orders: freshness")]
    assert freshness and freshness[0]["detail"].endswith(" hours") and " hours, threshold" in freshness[0]["detail"]
    assert not [r for r in rows if " 1 rows" in r["result"] + r["detail"]]
    assert rows[-1] == {"step": "publish", "name": "all models", "result": "blocked: nothing was published",
                        "detail": rows[-1]["detail"]}


def test_runs_carry_project_target_and_selection_and_parameters_say_what_they_take(project_dir):
    from prefect.client.orchestration import get_client
    from prefect.utilities.callables import parameter_schema

    from flows.elt_flow import elt_pipeline

    summary = elt_pipeline(project_dir=str(project_dir), select=["daily_revenue"])
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(summary.run_id)
    assert run.name == "shop_demo-dev-daily_revenue"
    assert {"elt", "project:shop_demo", "target:dev", "select:daily_revenue"} <= set(run.tags)
    described = parameter_schema(elt_pipeline.fn).model_dump()["properties"]  # what `prefect deploy` stores
    assert all(field.get("description") for field in described.values()), described
    assert "tag:finance" in described["select"]["description"] and "elt.toml" in described["target"]["description"]


def test_the_gate_note_shows_offending_values_rows_the_sql_and_where_the_contract_says_it(project_dir):
    from elt.errors import GateError
    from flows.elt_flow import elt_pipeline
    from tests.helpers import query

    contract = project_dir / "checks" / "contracts" / "orders.yml"
    text = contract.read_text()
    assert "      - invalid:\n          valid_values: [placed, paid," in text.splitlines(keepends=True)[12] + \
        text.splitlines(keepends=True)[13]  # line 13 of the file: the check the note must point at
    contract.write_text(text.replace("valid_values: [placed, paid, shipped", "valid_values: [placed, shipped")
                        .replace("where paid_amount is not null and paid_amount <> amount", "where amount > 300"))
    state = elt_pipeline(project_dir=str(project_dir), return_state=True)
    with pytest.raises(GateError):
        state.result()
    note = artifacts_of(state.state_details.flow_run_id)["shop-demo-dev-gate-failed"].data
    paid = query(project_dir, "select count(*) from raw_shop.orders where status = 'paid'")[0][0]
    assert "### orders: invalid on status: FAILED" in note and "`checks/contracts/orders.yml:13:9`" in note
    assert f"| status | rows |\n|---|---|\n| paid | {paid} |" in note
    assert "Up to 10 of the rows:" in note and "| order_id | customer_id | status |" in note
    assert "```sql\nselect * from _elt.orders__" in note and "\"status\" not in ('placed', 'shipped'" in note
    assert "### orders: failed_rows[paid_matches_amount]: FAILED" in note and "where amount > 300" in note


def test_a_person_reads_the_blocked_run_and_its_gate_note_in_a_browser(project_dir, prefect_server, tmp_path):
    """Headless Chromium on the server's own UI: the run page shows the run failed, its tags, the failing
    verify task and plain logs; the gate note's page shows the offending value, its rows and where to look."""
    import urllib.request

    from elt.errors import GateError
    from flows.elt_flow import elt_pipeline
    from tests import browser

    browser.require()
    ui = prefect_server.removesuffix("/api")
    try:
        urllib.request.urlopen(f"{ui}/ui-settings", timeout=5).close()
    except OSError:
        pytest.skip("this Prefect server serves no UI (Prefect's SQLite test harness, without Postgres)")
    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("[placed, paid, shipped", "[placed, shipped"))
    state = elt_pipeline(project_dir=str(project_dir), return_state=True)
    with pytest.raises(GateError):
        state.result()
    run_id = state.state_details.flow_run_id
    page = browser.rendered(f"{ui}/runs/flow-run/{run_id}", screenshot=tmp_path / "run.png")
    for text in ("shop_demo-dev-all", "Failed", "project:shop_demo", "target:dev", "verify-orders",
                 "extract shop: started"):
        assert text in page, f"{text!r} is not on the run's page"
    assert "|[INFO]|" not in page
    note = artifacts_of(run_id)["shop-demo-dev-gate-failed"]
    page = browser.rendered(f"{ui}/artifacts/artifact/{note.id}", screenshot=tmp_path / "gate.png")
    for text in ("Publication blocked: shop_demo on dev", "orders: invalid on status: FAILED",
                 "checks/contracts/orders.yml:13:9", "Find them all"):
        assert text in page, f"{text!r} is not on the gate note's page"
    (tmp_path / "gate.html").write_text(page)
    assert re.search(r"<td[^>]*>\s*paid\s*</td>", page), f"no table cell 'paid' in {tmp_path / 'gate.html'}"
