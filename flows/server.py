"""Prefect's temporary server (no PREFECT_API_URL): started by one process at a time, out of Ctrl-C's reach.

Each process without an API starts its own temporary server on the shared database in PREFECT_HOME, and
every start runs the database migrations. Two starting at once on a fresh database race (`index ...
already exists`, "Application startup failed"): the loser's server retries on another port, so both runs
succeed, but the user sees a traceback. Starting under a lock in PREFECT_HOME lets the second find the
database migrated.

Prefect starts that server in elt's process group, so Ctrl-C in a terminal (SIGINT to the whole group)
killed it first, and the interrupted run then retried the dead API for minutes, printing tracebacks. Here
it runs in its own session, stopped by Prefect at exit as before, and by the kernel if elt dies first.

Its output goes to `PREFECT_HOME/elt-temporary-server.log`, not the user's terminal: stopped at exit in the
middle of writing a run's last events, the server printed a page of asyncio tracebacks after a run that
had succeeded. When it does not start, the error names that file.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any, Iterator

from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_HOME,
    PREFECT_SERVER_EPHEMERAL_ENABLED,
    temporary_settings,
)

from elt import filelock
from elt.errors import ConfigError

PR_SET_PDEATHSIG = 1  # linux/prctl.h
try:  # looked up here, not in the forked child, where the loader's lock may be held by a thread that is gone
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # not Linux: Prefect's atexit stop still ends the server after a clean exit
    _prctl = None


def ensure_api() -> None:
    """Start the temporary server now, under the lock, when the flow would start one anyway."""
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return
    from prefect.server.api.server import SubprocessASGIServer  # 3.5 s of imports: only when there is no API

    home = Path(PREFECT_HOME.value())
    lock, log_path = home / "elt-temporary-server.lock", home / "elt-temporary-server.log"
    with filelock.held(lock, filelock.me("starting Prefect's temporary server"), wait_seconds=None), \
            log_path.open("ab") as log:
        popen = subprocess.Popen  # for the server's process, while it starts:
        subprocess.Popen = partial(popen, preexec_fn=_own_session, stdout=log, stderr=subprocess.STDOUT)
        try:
            SubprocessASGIServer().start()  # Prefect's own instance: the flow's client finds it running
        except RuntimeError as err:
            raise ConfigError(f"Prefect's temporary server did not start: {err} (its output: {log_path})",
                              hint="run one with `prefect server start` and set PREFECT_API_URL") from None
        finally:
            subprocess.Popen = popen


def _own_session() -> None:
    """In the server's process before it runs: leave elt's process group, and end when elt ends."""
    os.setsid()
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextmanager
def cli_run() -> Iterator[None]:
    """Settings for the flow run `elt run` starts in its own process.

    A sync flow run waits at its end for its heartbeat thread's current 1 s sleep (0-1 s, ~1 s measured on
    a no-op demo run of ~2 s of work). Heartbeats serve only an automation that watches for missing ones:
    off for CLI runs unless PREFECT_FLOWS_HEARTBEAT_FREQUENCY is set; runs of deployments keep theirs.
    """
    if "PREFECT_FLOWS_HEARTBEAT_FREQUENCY" in os.environ:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
