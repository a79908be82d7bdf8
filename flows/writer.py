"""One writer per warehouse: the warehouse's own lock, then a Prefect global concurrency slot that shows it.

The lock (a kernel file lock beside a DuckDB file, a Postgres advisory lock) is the truth: it dies with its
holder, so a killed run never blocks the next one, and a live holder is always waited for. The Prefect slot
(`elt-writer-<project>-<target>`, limit 1) is taken only by a run that holds the lock: it shows in the UI
who writes, and it is created when missing and taken with `strict=True`, because without strict a missing
limit silently lets every run through. A run killed with SIGKILL cannot release its slot, and Prefect
keeps it for the lease's lifetime (for ever on a temporary server, whose leases live in its memory). So a
run that holds the lock and finds the slot taken knows its holder is dead: it frees the slot and says so.
"""
from __future__ import annotations

import logging
from contextlib import ExitStack, contextmanager
from typing import Iterator

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.client.schemas.objects import ConcurrencyLeaseHolder
from prefect.concurrency.asyncio import AcquireConcurrencySlotTimeoutError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound
from prefect.runtime import flow_run

from elt import warehouse
from elt.config import Project, Target

log = logging.getLogger("elt.flow")
DEFAULT_WAIT_SECONDS = 1800
SLOT_SECONDS = 2  # a slot that a lock holder cannot get at once is held by a dead run


def limit_name(project: Project, target: Target) -> str:
    return f"elt-writer-{project.name}-{target.name}".replace("_", "-")


@contextmanager
def sole_writer(project: Project, target: Target, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> Iterator[None]:
    """Wait (up to `wait_seconds`) until no other run writes to `target`, then hold it."""
    who = f"flow run {flow_run.get_name()} ({flow_run.get_id()})"
    name = limit_name(project, target)

    def waiting(holder: str) -> None:
        log.info("warehouse %s is held by %s; waiting up to %ss", target.name, holder, int(wait_seconds))

    with warehouse.exclusive(target, who=who, wait_seconds=wait_seconds, on_wait=waiting) as left_behind:
        with ExitStack() as slot:
            freed = _take_slot(slot, name)
            if left_behind or freed:
                log.warning("warehouse %s: taking over from %s, which stopped without releasing it%s",
                            target.name, left_behind or "a run that no longer holds the warehouse",
                            f" (freed its Prefect slot {name})" if freed else "")
            yield


def _take_slot(stack: ExitStack, name: str) -> bool:
    """Enter the writer slot on `stack`; returns whether a dead run's occupation had to be cleared first."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            try:
                client.upsert_global_concurrency_limit_by_name(name, limit=1)
                log.info("created the global concurrency limit %s (limit 1)", name)
            except ObjectAlreadyExists:
                pass  # a run starting at the same moment created it
    lease = ConcurrencyLeaseHolder(type="flow_run", id=flow_run.get_id()) if flow_run.get_id() else None
    try:
        stack.enter_context(concurrency(name, strict=True, timeout_seconds=SLOT_SECONDS, holder=lease))
        return False
    except AcquireConcurrencySlotTimeoutError:
        pass
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))
    stack.enter_context(concurrency(name, strict=True, timeout_seconds=SLOT_SECONDS, holder=lease))
    return True
