"""A project copied (`cp -a`) or cloned (git, as the deployment's git_clone pull step does) to another folder
loads nothing twice: file sources know their files relative to the bucket and by content, and a clone
without `.elt/` takes the state from the warehouse it points at."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

from tests.bad_input import elt
from tests.helpers import query, source_project

SOURCE = '''
[sources.drops]
kind = "filesystem"
bucket_url = "inbox"

[sources.drops.resources.events]
glob = "*.csv"
write_disposition = "append"
'''


def project_with_files(root: Path, warehouse: Path | None = None) -> Path:
    project = source_project(root, SOURCE)
    if warehouse is not None:  # outside the project: a clone points at the same one
        config = project / "elt.toml"
        config.write_text(config.read_text().replace('path = "warehouse.duckdb"', f'path = "{warehouse}"'))
    (project / "inbox").mkdir()
    for n in range(4):  # distinct mtimes: the newest one is where dlt's cursor stood
        (project / "inbox" / f"day{n}.csv").write_text("id,n\n" + "".join(f"{n * 25 + i},{i}\n" for i in range(25)))
        time.sleep(0.01)
    return project


def loaded(project: Path) -> tuple[int, int]:
    return query(project, "select count(*), count(distinct id) from raw_drops.events")[0]


def extract(project: Path) -> str:
    result = elt(project, "extract", "drops")
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_a_copied_project_loads_nothing_again(tmp_path: Path) -> None:
    project = project_with_files(tmp_path / "here")
    extract(project)
    assert loaded(project) == (100, 100)
    subprocess.run(["cp", "-a", str(project), str(tmp_path / "there")], check=True)
    assert "raw_drops: nothing new" in extract(tmp_path / "there")
    assert loaded(tmp_path / "there") == (100, 100)


def test_a_git_clone_on_the_same_warehouse_loads_nothing_again(tmp_path: Path) -> None:
    warehouse = tmp_path / "shared" / "warehouse.duckdb"
    project = project_with_files(tmp_path / "repo", warehouse)
    extract(project)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    (project / ".gitignore").write_text(".elt/\n")
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "."], cwd=project, check=True)
    subprocess.run([*git, "commit", "-qm", "project"], cwd=project, check=True)
    time.sleep(0.01)  # the clone's files are newer than every loaded one
    subprocess.run([*git, "clone", "-q", str(project), str(tmp_path / "clone")], check=True)
    clone = tmp_path / "clone"
    assert not (clone / ".elt").exists()
    assert "raw_drops: nothing new" in extract(clone)
    assert loaded(clone) == (100, 100)
    # the clone goes on from there: a new file loads once, in the clone and not again in the original
    (clone / "inbox" / "day4.csv").write_text("id,n\n100,0\n")
    extract(clone)
    assert loaded(clone) == (101, 101)
