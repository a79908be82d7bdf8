"""Prefect flows and tasks: sequencing, retries, artifacts. Only this package imports prefect.

Python runs this file before any module of the package, so these settings precede every prefect import.
"""
import logging
import os

# Read by Prefect at import: no analytics calls from an offline machine; dlt's and our logs in the run's logs;
# a first ephemeral server on a fresh database can take over Prefect's default 20 s to start (STACK.md).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "dlt,elt")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")

# Prefect attaches its API handler to the extra loggers but leaves their level to the root's (WARNING):
# the toolkit's INFO lines (rows loaded, models built, progress) belong in the run's logs.
if logging.getLogger("elt").level == logging.NOTSET:
    logging.getLogger("elt").setLevel(logging.INFO)
