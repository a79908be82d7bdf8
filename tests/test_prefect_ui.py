"""What a data engineer reads of a run in the Prefect UI, read back from a real Prefect server."""
from __future__ import annotations

import re
import time

import pytest

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
