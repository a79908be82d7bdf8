"""prefect.yaml for real: deploy to a process work pool, run through a worker, watch runs, events, limits.

Everything talks to the session's real Prefect server (tests/prefect_server.py) through the `prefect` CLI
and a real `prefect worker`, from a temp clone of the project.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator
from uuid import UUID

import pytest
import yaml

from tests.conftest import T1, copy_project
from tests.helpers import answers, published, query

pytestmark = pytest.mark.slow
PREFECT = Path(sys.executable).with_name("prefect")


@pytest.fixture
def deployed(tmp_path, prefect_server):
    """A clone of the project, its work pool created and `prefect deploy --all` run from it."""
    project = copy_project(tmp_path / "project")
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "prefect_home"),
           "ELT_NOW": T1, "PWD": str(project)}
    cli(env, project, "work-pool", "create", "elt-process", "--type", "process", "--overwrite")
    cli(env, project, "--no-prompt", "deploy", "--all")
    return project, env


def cli(env: dict, cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([str(PREFECT), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert result.returncode == 0, f"prefect {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def trigger(env: dict, project: Path, deployment: str, **params) -> UUID:
    args = ["deployment", "run", deployment] + (["--params", json.dumps(params)] if params else [])
    out = cli(env, project, *args).stdout
    return UUID(re.search(r"UUID: ([0-9a-f-]{36})", out).group(1))


def work(env: dict, project: Path) -> None:
    """One worker pass: pick up the runs that are due, run them, exit."""
    cli(env, project, "worker", "start", "--pool", "elt-process", "--run-once")


def flow_run(run_id: UUID):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def artifacts(run_id: UUID) -> dict:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    from tests.test_pipeline import artifact_kind

    return {artifact_kind(a.key) or a.type: a for a in found}


def wait_for_event(name: str, run_id: UUID, timeout: float = 60):
    """Events reach the API a few seconds after they are emitted: poll (limit <= 50)."""
    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            page = client.read_events(filter=EventFilter(event=EventNameFilter(name=[name])), limit=50)
            for event in page.events:
                if event.payload.get("run_id") == str(run_id):
                    return event
            time.sleep(1)
    raise AssertionError(f"no {name} event for run {run_id} within {timeout}s")


def test_deploy_run_watch(deployed):
    project, env = deployed
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:  # the form a person fills in to run it by hand
        form = client.read_deployment_by_name("elt/hourly").parameter_openapi_schema["properties"]
    assert form["target"]["enum"] == ["", "dev", "pg"], "the runnable targets of elt.toml, as a choice"
    assert "tag:finance" in form["select"]["description"]
    run_id = trigger(env, project, "elt/hourly", target="dev", select=["daily_revenue"])
    work(env, project)
    run = flow_run(run_id)
    assert run.state.type.value == "COMPLETED", run.state
    assert run.name == "shop_demo-dev-daily_revenue"
    assert {"elt", "project:shop_demo", "target:dev", "select:daily_revenue"} <= set(run.tags)
    # the selection: daily_revenue and what it reads were built and published; customers was not
    assert set(published(project)) == {"daily_revenue", "orders"}
    found = artifacts(run_id)
    rows = found["run-summary"].data
    rows = rows if isinstance(rows, list) else json.loads(rows)
    assert {r["name"] for r in rows if r["step"] == "build"} == {"stg_orders", "stg_payments", "orders",
                                                                  "daily_revenue"}
    assert any(r["step"] == "load" and r["name"] == "raw_shop.orders" and r["result"] == "1296 rows" for r in rows)
    assert all(r["result"] == "PASSED" for r in rows if r["step"] == "check")
    assert "progress" in found and found["progress"].data == 100.0
    event = wait_for_event("elt.publication.completed", run_id)
    assert event.payload["models"] == ["daily_revenue", "orders"]
    assert event.payload["summary"].startswith("shop_demo on dev: publication 1 published ")
    assert event.resource.id == "elt.warehouse.shop_demo.dev"
    # the loads' progress and the toolkit's logs are in the run's logs
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200)
    names = {log.name for log in logs}
    assert {"elt.progress", "elt.transforms"} <= names, names


def test_failing_contract_blocks_and_says_why(deployed):
    project, env = deployed
    first = trigger(env, project, "elt/hourly")
    work(env, project)
    assert flow_run(first).state.type.value == "COMPLETED"
    before = answers(project)
    contract = project / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 1000000"))
    second = trigger(env, project, "elt/hourly")
    work(env, project)
    run = flow_run(second)
    assert run.state.type.value == "FAILED"
    assert "orders: row_count: FAILED, measured 1296, threshold > 1000000" in run.state.message
    event = wait_for_event("elt.gate.failed", second)
    assert event.payload["models"] == ["orders"]
    assert event.payload["failures"][0]["value"] == 1296
    assert event.payload["summary"].startswith("shop_demo on dev: publication blocked, 1 of ")  # of those verified
    assert event.payload["summary"].endswith(" checks did not pass: orders: row_count: FAILED, measured 1296, "
                                             "threshold > 1000000")
    assert "Publication blocked" in artifacts(second)["gate-failed"].data
    assert answers(project) == before

    rollback = trigger(env, project, "elt-rollback/manual")
    work(env, project)
    assert flow_run(rollback).state.type.value == "FAILED", "only one publication: nothing to roll back to"


def test_lint_deployment(deployed):
    project, env = deployed
    ok = trigger(env, project, "elt-lint/on-demand")
    work(env, project)
    assert flow_run(ok).state.type.value == "COMPLETED"
    (project / "transforms" / "models" / "marts" / "broken.sql").write_text("-- materialized: table\nselect nope\n"
                                                                           "from orders\n")
    bad = trigger(env, project, "elt-lint/on-demand")
    work(env, project)
    assert flow_run(bad).state.type.value == "FAILED"
    assert "transforms/models/marts/broken.sql:2:8: L003" in artifacts(bad)["shop-demo-dev-lint"].data


def test_schedule_gets_runs_from_the_scheduler(deployed):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterName

    deployment = yaml.safe_load((deployed[0] / "prefect.yaml").read_text())["deployments"][0]
    assert deployment["schedules"][0]["cron"] and deployment["schedules"][0]["timezone"]
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_flow_runs(deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=["hourly"])))
            scheduled = [r for r in runs if r.auto_scheduled and r.state.type.value == "SCHEDULED"]
            if scheduled or time.monotonic() > deadline:
                break
            time.sleep(2)
    assert scheduled, "the server's scheduler created no runs for the cron schedule"
    assert all(r.expected_start_time.minute == 5 for r in scheduled)


def test_two_runs_at_once_take_turns(tmp_path, prefect_server):
    """Two flow runs against one warehouse, started together: they write one after the other; both succeed."""
    project = copy_project(tmp_path / "project")
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "ELT_NOW": T1}
    procs = [subprocess.Popen([sys.executable, "-c", RUN_FLOW], cwd=project, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1][-2000:] for o in outputs]
    run_ids = [UUID(re.search(r"RUN (\S+)", o[0]).group(1)) for o in outputs]
    first, second = sorted(_writer_span(r) for r in run_ids)
    assert first[1] <= second[0], "their extract-to-publish spans overlap"
    assert query(project, "select count(*) from _elt.publications")[0][0] == 1, "the second found nothing new"


def test_a_waiting_run_says_who_holds_the_warehouse(tmp_path, prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.concurrency.sync import concurrency

    from elt import warehouse
    from elt.config import load_project
    from flows.writer import limit_name

    project_dir = copy_project(tmp_path / "project")
    project = load_project(project_dir)
    target = project.target()
    name = limit_name(project, target)
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, limit=1)
    env = {**os.environ, "PREFECT_API_URL": prefect_server, "ELT_NOW": T1}
    with concurrency(name, strict=True), warehouse.exclusive(target, who="flow run nightly-backfill"):
        waiting = subprocess.Popen([sys.executable, "-c", RUN_FLOW], cwd=project_dir, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for line in waiting.stderr:
            if "is held by" in line:
                assert "warehouse dev is held by flow run nightly-backfill, pid" in line
                break
        else:
            raise AssertionError("the waiting run never said who holds the warehouse")
        released = time.time()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-2000:]
    start, _ = _writer_span(UUID(re.search(r"RUN (\S+)", out).group(1)))
    assert start.timestamp() >= released


RUN_FLOW = "from flows.elt_flow import elt_pipeline; s = elt_pipeline(); print('RUN', s.run_id)"


def _writer_span(run_id: UUID) -> tuple:
    """From the first task's start to the last task's end: when the run worked on the warehouse."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return min(t.start_time for t in tasks if t.start_time), max(t.end_time for t in tasks if t.end_time)


@contextmanager
def shipped_automation(tmp_path: Path, prefect_server: str, name: str) -> Iterator[tuple[Path, dict, list[str]]]:
    """automations/<name>.yaml created as documented, its notification block a webhook on loopback; yields
    (a project copy, its environment, the notifications the webhook received)."""
    import http.server
    import threading

    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    received: list[str] = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802  (http.server's naming)
            received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        block = CustomWebhookNotificationBlock(name="test-hook", url=f"http://127.0.0.1:{server.server_port}/",
                                               json_data={"subject": "{{subject}}", "body": "{{body}}"})
        block_id = block.save(f"elt-test-hook-{name}", overwrite=True)
        project = copy_project(tmp_path / "project")
        shipped = yaml.safe_load((project / "automations" / f"{name}.yaml").read_text())
        shipped["automations"][0]["actions"][0]["block_document_id"] = str(block_id)
        (tmp_path / "automation.yaml").write_text(yaml.safe_dump(shipped))
        env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "home"),
               "ELT_NOW": T1}
        cli(env, project, "automation", "create", "--from-file", str(tmp_path / "automation.yaml"))
        yield project, env, received
    finally:
        server.shutdown()


def first_notification(received: list[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    while not received and time.monotonic() < deadline:
        time.sleep(1)
    assert received, f"no notification within {timeout:.0f} s"
    return json.loads(received[0])


def test_shipped_automation_notifies_when_the_gate_fails(tmp_path, prefect_server):
    """automations/notify-on-gate-failed.yaml, created as documented, calls a webhook on gate failure."""
    with shipped_automation(tmp_path, prefect_server, "notify-on-gate-failed") as (project, env, received):
        contract = project / "checks" / "contracts" / "daily_revenue.yml"
        contract.write_text(contract.read_text().replace("must_be_less_than: 6", "must_be_less_than: 0"))
        result = subprocess.run([sys.executable, "-c", RUN_FLOW], cwd=project, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode != 0 and "daily_revenue: freshness on updated_at: FAILED" in result.stderr
        note = first_notification(received)
        assert note["subject"] == "ELT publication blocked on shop_demo on dev"
        assert "- daily_revenue: freshness on updated_at FAILED, measured" in note["body"]


def test_shipped_automation_notifies_when_a_source_is_stale(tmp_path, prefect_server):
    """automations/notify-on-freshness-breached.yaml calls the webhook when a source is older than its SLA."""
    with shipped_automation(tmp_path, prefect_server, "notify-on-freshness-breached") as (project, env, received):
        config = project / "elt.toml"
        config.write_text(config.read_text().replace('kind = "demo_shop"',
                                                     'kind = "demo_shop"\nfreshness_hours = 0.001'))
        result = subprocess.run([sys.executable, "-c", RUN_FLOW], cwd=project, env=env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, result.stderr[-3000:]  # reported, not blocking: the run still publishes
        note = first_notification(received)
        assert note["subject"].startswith("Stale data on shop_demo on dev: raw_shop.")
        assert "hours old, beyond its SLA of 0.001 hours" in note["body"]
