"""Prefect flows and tasks: sequencing, retries, artifacts. Only this package imports prefect.

Python runs this file before any module of the package, so these settings precede every prefect import.
"""
import atexit
import logging
import os

# Read by Prefect at import: no analytics calls from an offline machine; dlt's and our logs in the run's logs;
# a first ephemeral server on a fresh database can take over Prefect's default 20 s to start.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "dlt,elt")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

# Prefect attaches its API handler to the extra loggers but leaves their level to the root's (WARNING):
# the toolkit's INFO lines (rows loaded, models built, progress) belong in the run's logs.
if logging.getLogger("elt").level == logging.NOTSET:
    logging.getLogger("elt").setLevel(logging.INFO)


class _TakesDltsFormat(logging.NullHandler):
    """dlt sets its own format (`2026-12-01 19:20:03,122|[INFO]|23799|...|`) on the first handler of the `dlt`
    logger. Prefect's API handler is attached there too, and it is one handler shared by every Prefect
    logger: every record a run stored, Prefect's own included, carried dlt's prefix. Standing first, this
    handler takes the format and drops nothing, writes nothing: dlt's records still reach the API handler."""


_dlt_logger = logging.getLogger("dlt")
if not any(isinstance(h, _TakesDltsFormat) for h in _dlt_logger.handlers):
    _dlt_logger.handlers.insert(0, _TakesDltsFormat())  # first even where Prefect attached its handler already


@atexit.register
def _stop_prefect_loop() -> None:
    """Let Prefect's global event-loop thread finish before the interpreter tears down.

    Each Prefect background service (logs, events, concurrency leases) leaves a drain call on that daemon
    thread holding a copy of the run's context, and through it the flow's functions and every module they
    import (Soda's DuckDB plugin, DuckDB's types). A daemon thread's references are never released, so DuckDB
    printed "nanobind: leaked ..." at every exit. Stopping the loop runs those (already drained) calls and
    drops them. `_global_loop` is private to Prefect: if it moves, this does nothing.
    """
    import sys

    threads = sys.modules.get("prefect._internal.concurrency.threads")
    loop = getattr(threads, "_global_loop", None)
    if loop is not None and loop.thread.is_alive():
        loop.shutdown()
        loop.thread.join(timeout=5)
