"""Prefect's temporary server (no PREFECT_API_URL), started by one process at a time.

Each process without an API starts its own temporary server on the shared database in PREFECT_HOME, and
every start runs the database migrations. Two starting at once on a fresh database race (`index ...
already exists`, "Application startup failed"): the loser's server retries on another port, so both runs
succeed, but the user sees a traceback. Starting under a lock in PREFECT_HOME lets the second find the
database migrated.
"""
from __future__ import annotations

from pathlib import Path

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, PREFECT_HOME, PREFECT_SERVER_EPHEMERAL_ENABLED

from elt import filelock


def ensure_api() -> None:
    """Start the temporary server now, under the lock, when the flow would start one anyway."""
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    lock = Path(PREFECT_HOME.value()) / "elt-temporary-server.lock"
    with filelock.held(lock, filelock.me("starting Prefect's temporary server"), wait_seconds=None):
        SubprocessASGIServer().start()  # the flow's client finds this instance running and uses it
