"""One writer per warehouse: a Prefect global concurrency limit, then the warehouse's file lock.

The Prefect limit (`elt-writer-<project>-<target>`, limit 1) makes concurrent runs of any deployment
wait their turn; it is created when missing and then taken with `strict=True`, because without strict a
missing limit silently lets every run through. The file lock (elt.warehouse.exclusive) still guards
against writers outside this Prefect server (the CLI, another API).
"""
from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from typing import Iterator

from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency.asyncio import AcquireConcurrencySlotTimeoutError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.runtime import flow_run

from elt import warehouse
from elt.config import Project, Target
from elt.errors import WarehouseBusyError

log = logging.getLogger("elt.flow")
DEFAULT_WAIT_SECONDS = 1800
FIRST_TRY_SECONDS = 2  # a free warehouse is taken at once; after this, say who holds it and keep waiting


def limit_name(project: Project, target: Target) -> str:
    return f"elt-writer-{project.name}-{target.name}".replace("_", "-")


@contextmanager
def sole_writer(project: Project, target: Target, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Wait (up to `wait_seconds`) until no other run writes to `target`, then hold it."""
    name = limit_name(project, target)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.upsert_global_concurrency_limit_by_name(name, limit=1)
                log.info("created the global concurrency limit %s (limit 1)", name)
            except ObjectAlreadyExists:
                pass  # a run starting at the same moment created it
    who = f"flow run {flow_run.get_name()} ({flow_run.get_id()})"
    lease = ConcurrencyLeaseHolder(type="flow_run", id=flow_run.get_id()) if flow_run.get_id() else None
    slot = ExitStack()
    try:  # only the wait is guarded: a timeout inside the run is the run's own failure
        try:
            slot.enter_context(concurrency(name, strict=True, timeout_seconds=FIRST_TRY_SECONDS, holder=lease))
        except AcquireConcurrencySlotTimeoutError:
            log.info("warehouse %s is held by %s; waiting up to %ss", target.name,
                     warehouse.last_holder(target) or "another run", int(wait_seconds))
            slot.enter_context(concurrency(name, strict=True, timeout_seconds=wait_seconds, holder=lease))
    except AcquireConcurrencySlotTimeoutError:
        raise WarehouseBusyError(
            f"waited {int(wait_seconds)}s for warehouse {target.name}, held by "
            f"{warehouse.last_holder(target) or 'another run'}",
            hint=f"see the running flow runs, or the concurrency limit {name} in the Prefect UI") from None
    with slot, warehouse.exclusive(target, who=who):
        yield
