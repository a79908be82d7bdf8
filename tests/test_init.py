"""`elt init`: a new project that lints, runs, re-runs as a no-op, takes an edited seed, and deploys as it is."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.bad_input import elt
from tests.helpers import query
from tests.test_deploy import cli, flow_run, trigger, work


def test_init_refuses_a_folder_with_files(tmp_path: Path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    result = elt(tmp_path, "init", "taken")
    assert result.returncode == 1 and "taken is not empty" in result.stderr
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["notes.txt"]


@pytest.mark.slow
def test_init_lints_runs_and_deploys_as_it_is(tmp_path: Path, prefect_server):
    created = elt(tmp_path, "init", "my-shop")
    assert created.returncode == 0, created.stderr
    project = tmp_path / "my-shop"
    assert 'name = "my_shop"' in (project / "elt.toml").read_text()
    lint = elt(project, "lint")
    assert lint.returncode == 0 and "2 model(s) OK, 1 contract(s) OK" in lint.stderr, lint.stderr

    env = {"PREFECT_API_URL": prefect_server}
    first = elt(project, "run", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "loaded   raw_seeds: customers 5" in first.stdout and "published publication 1" in first.stdout
    assert "published nothing new" in elt(project, "run", env=env).stdout  # an unchanged seed loads nothing

    seed = project / "seeds" / "customers.csv"
    seed.write_text(seed.read_text().replace("Alan Turing,GB", "Alan Turing,FR"))
    edited = elt(project, "run", env=env)
    assert edited.returncode == 0 and "published publication 2" in edited.stdout, edited.stdout + edited.stderr
    assert query(project, "select country, customers from analytics.customers_by_country order by country") == [
        ("AT", 1), ("FR", 1), ("GB", 1), ("US", 2)]  # merged by customer_id: no row twice

    deploy_env = {**os.environ, "PREFECT_API_URL": prefect_server, "PREFECT_HOME": str(tmp_path / "home"),
                  "PWD": str(project)}
    cli(deploy_env, project, "work-pool", "create", "elt-process", "--type", "process", "--overwrite")
    cli(deploy_env, project, "--no-prompt", "deploy", "--all")
    seed.write_text(seed.read_text() + "6,Margaret Hamilton,US,2026-03-01T10:00:00Z\n")
    run_id = trigger(deploy_env, project, "elt/hourly")
    work(deploy_env, project)
    assert flow_run(run_id).state.is_completed()
    assert ("US", 3) in query(project, "select country, customers from analytics.customers_by_country")
