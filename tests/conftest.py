"""Shared fixtures: a copy of the demo project per test, a pinned clock, one Prefect test server per session."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
T1 = "2026-01-10T00:00:00Z"
T2 = "2026-01-10T06:00:00Z"

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")


def copy_project(destination: Path) -> Path:
    """The repository's project (config, models, contracts) without its warehouse or dlt state."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "elt.toml", destination / "elt.toml")
    shutil.copytree(REPO / "transforms" / "models", destination / "transforms" / "models")
    shutil.copytree(REPO / "checks" / "contracts", destination / "checks" / "contracts")
    return destination


@pytest.fixture
def project_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ELT_NOW", T1)
    return copy_project(tmp_path / "project")


@pytest.fixture(scope="session")
def prefect_server():
    """A real Prefect API (temporary database) for every flow test of the session."""
    import flows  # noqa: F401  (Prefect's environment before prefect is imported)
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
