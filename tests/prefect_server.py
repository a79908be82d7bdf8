"""A real Prefect server for the test session (backed by Postgres when the machine has one).

Prefect's SQLite-backed test server answers 503 "database is locked" under back-to-back runs and its
clients back off for seconds each time; on Postgres a flow run takes ~1 s. Without Postgres
(a laptop), Prefect's own test harness on SQLite is used: slower, same behaviour.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def prefect_server(home: Path, database_url: str | None = None, timeout: float = 90) -> Iterator[str]:
    """`prefect server start` (API and UI) on a free loopback port; yields the API URL; stops it by its own PID."""
    port = free_port()
    # the UI too (tests open it in a browser), pointed at this server's API rather than the default port 4200
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "true",
           "PREFECT_UI_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           # the scheduler's pass every 5 s instead of 60 s, so tests see scheduled runs appear quickly
           "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "5"}
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    log = open(home / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"prefect server did not start; see {home / 'server.log'}") from None
                time.sleep(0.5)
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()
