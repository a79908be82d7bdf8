"""Shared fixtures: a copy of the demo project per test, a pinned clock, one Prefect test server per session."""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
T1 = "2026-01-10T00:00:00Z"
T2 = "2026-01-10T06:00:00Z"

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# elt.sources logs outside flow runs too (tests call the runner directly): not an error worth a warning
os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")


def copy_project(destination: Path) -> Path:
    """A clone of the repository as a user has it, without venv, warehouse, dlt state or tests."""
    skip = shutil.ignore_patterns(".git", ".venv", "warehouse", ".elt", "tests", "bench", "__pycache__", "*.egg-info",
                                  ".pytest_cache", ".ruff_cache")
    shutil.copytree(REPO, destination, ignore=skip)
    return destination


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ELT_NOW", T1)
    return copy_project(tmp_path / "project")


@pytest.fixture(params=["duckdb", "postgres"])
def any_project(request, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The project on each runnable target: its default target is a DuckDB file or a scratch Postgres database."""
    monkeypatch.setenv("ELT_NOW", T1)
    project = copy_project(tmp_path / "project")
    if request.param == "duckdb":
        yield project
        return
    from tests import postgres

    postgres.require()
    with postgres.scratch_database("elt_test") as database:
        monkeypatch.setenv("ELT_PG_DSN", postgres.dsn(database))
        config = project / "elt.toml"
        config.write_text(config.read_text().replace('default_target = "dev"', 'default_target = "pg"'))
        yield project


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory):
    """A real Prefect API for every flow test of the session: on Postgres here, on SQLite elsewhere."""
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    import flows  # noqa: F401  (Prefect's environment before prefect is imported)
    from tests import postgres
    from tests import prefect_server as server

    if not postgres.postgres_reachable():
        if postgres.required():
            pytest.fail("ELT_REQUIRE_POSTGRES is set but Postgres is unreachable at " + postgres.where())
        with prefect_test_harness(server_startup_timeout=90):
            from prefect.settings import PREFECT_API_URL

            yield PREFECT_API_URL.value()
        return
    with postgres.scratch_database("elt_test_prefect") as database:
        url = postgres.dsn(database).replace("postgresql://", "postgresql+asyncpg://")
        with server.prefect_server(tmp_path_factory.mktemp("prefect_home"), url) as api_url:
            with temporary_settings(updates={PREFECT_API_URL: api_url}):
                yield api_url
                # Send queued logs and events while the server still listens; else exit waits on retries.
                from prefect.events.worker import EventsWorker
                from prefect.logging.handlers import APILogWorker

                APILogWorker.drain_all(timeout=10)
                EventsWorker.drain_all(timeout=10)


@contextmanager
def warehouse_target(kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A runnable target of `kind` that exists only for one test: a DuckDB file, or a scratch Postgres database."""
    from elt.config import Target
    from tests import postgres

    if kind == "duckdb":
        yield Target(name="dev", type="duckdb", path=tmp_path / "warehouse" / "w.duckdb")
        return
    postgres.require()
    with postgres.scratch_database("elt_test") as database:
        monkeypatch.setenv("ELT_TEST_PG_DSN", postgres.dsn(database))
        yield Target(name="pg", type="postgres", dsn_env="ELT_TEST_PG_DSN")
