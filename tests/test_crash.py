"""Crash test: `elt extract` killed with SIGKILL during extract, normalize or load, then run again.

The next run must first complete the load package the killed run left, then extract what is new since, and
afterwards the warehouse equals the source: same rows, same checksum, no duplicate keys.

The killed run is the real CLI in its own process group. The test watches dlt's working folder
(`.elt/dlt/<project>__<source>__<target>/`) and kills the group when the run reaches a stage:

    normalize/<random>/<load_id>/new_jobs/     extract writing files (a temp folder per extract; a killed
                                               extract leaves it behind, nothing reads it again)
    normalize/extracted/<load_id>/             extract committed its package, which carries the new cursor;
                                               `state.json` (the local cursor) is saved a few ms later
    load/new/<load_id>/                        normalize writing the load package
    load/normalized/<load_id>/                 normalize renamed load/new/<id> here, then deletes
                                               normalize/extracted/<id> (for a few ms both exist)
    load/normalized/<load_id>/{new,started,completed}_jobs/ and .pending_transitions/
                                               load running: jobs move new -> started -> completed; a job
                                               that finished is recorded in .pending_transitions first
    load/normalized/<load_id>/started_jobs/events.*.sql
                                               merge: staging loaded, the merge statement running
    load/loaded/<load_id>/                     done

After the kill the frozen folder is classified again; a run that slipped past the stage is repeated.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import pytest

from tests import postgres

pytestmark = pytest.mark.slow

ELT = Path(sys.executable).with_name("elt")
PIPELINE = "crash__app__dev"
ROWS = 100_000  # rows the killed run extracts: 20 files of CHUNK rows, so every stage lasts long enough to hit
CHUNK = 5_000
PRIOR_ROWS = 1_000  # loaded by a complete run before the killed one, where the scenario has a prior load
NEW_ROWS = 3_000  # inserted while the killed run lies dead
UPDATED_EVERY = 50  # merge: every 50th existing row gets a new amount and a later updated_at meanwhile
ATTEMPTS = 4  # a stage shorter than the poll interval may be missed: run the killed run again from scratch
PENDING = "completing {n} pending load package(s) of an interrupted run"

PROJECT_TOML = """\
[project]
name = "crash"

[targets.dev]
type = "duckdb"
path = "warehouse/crash.duckdb"

[sources.app]
kind = "sql_database"
dsn_env = "CRASH_APP_DSN"
chunk_size = {chunk}

[sources.app.resources.events]
primary_key = "id"
write_disposition = "{disposition}"
incremental = {{ cursor = "updated_at" }}
"""


# --- the source ------------------------------------------------------------------------------------------

def create_events(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        con.execute("""create table events (id bigint primary key, customer_id bigint not null,
                       amount numeric(12,2) not null, note text, updated_at timestamptz not null)""")


def insert_events(dsn: str, rows: int) -> None:
    """`rows` new events after every existing id and cursor value."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        top = con.execute("select coalesce(max(id), 0) from events").fetchone()[0]
        con.execute(f"""insert into events
                        select g, g % 997, round((g % 100000) / 7.0, 2), 'note ' || md5(g::text),
                               timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second'
                        from generate_series({top + 1}, {top + rows}) g""")


def update_events(dsn: str) -> int:
    """Every UPDATED_EVERY-th row: a new amount and note, and an updated_at beyond every cursor so far."""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as con:
        return con.execute(f"""update events set amount = amount + 1, note = 'updated',
                               updated_at = timestamptz '2027-01-01 00:00:00+00' + id * interval '1 ms'
                               where id % {UPDATED_EVERY} = 0""").rowcount


SOURCE_ROWS = """select id, customer_id, (amount * 100)::bigint, note,
                        (extract(epoch from updated_at) * 1000000)::bigint from events order by id"""
WAREHOUSE_ROWS = """select id, customer_id, (amount * 100)::bigint, note, epoch_us(updated_at)
                    from raw_app.events order by id"""


def last_updated(dsn: str) -> datetime:
    import psycopg

    with psycopg.connect(dsn) as con:
        return con.execute("select max(updated_at) from events").fetchone()[0]


def rows_after(dsn: str, since: datetime | None) -> int:
    import psycopg

    with psycopg.connect(dsn) as con:
        if since is None:
            return con.execute("select count(*) from events").fetchone()[0]
        return con.execute("select count(*) from events where updated_at > %s", [since]).fetchone()[0]


def assert_warehouse_equals_source(dsn: str, warehouse: Path) -> None:
    import duckdb
    import psycopg

    with psycopg.connect(dsn) as con:
        source = con.execute(SOURCE_ROWS).fetchall()
        source_sums = con.execute("select count(*), sum(id), sum(amount) from events").fetchone()
    wh = duckdb.connect(str(warehouse), read_only=True)
    try:
        loaded = wh.execute(WAREHOUSE_ROWS).fetchall()
        loaded_sums = wh.execute("select count(*), sum(id), sum(amount) from raw_app.events").fetchone()
        duplicates = wh.execute("select count(*), sum(copies) from (select count(*) as copies from raw_app.events "
                                "group by id having count(*) > 1)").fetchone()
        failed = wh.execute("select count(*) from raw_app._dlt_loads where status <> 0").fetchone()[0]
    finally:
        wh.close()
    assert not duplicates[0], f"{duplicates[0]} ids are in raw_app.events more than once ({duplicates[1]} rows)"
    assert loaded_sums == source_sums, \
        f"(count, sum id, sum amount): warehouse {loaded_sums} != source {source_sums}"
    if loaded != source:
        missing, extra = set(source) - set(loaded), set(loaded) - set(source)
        pytest.fail(f"warehouse rows differ from the source: {len(missing)} missing or stale, e.g. "
                    f"{sorted(missing)[:3]}; {len(extra)} not in the source, e.g. {sorted(extra)[:3]}")
    assert failed == 0, "a load package is recorded as failed"


# --- dlt's working folder --------------------------------------------------------------------------------

def _dirs(path: Path) -> list[Path]:
    try:
        return [p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")]
    except FileNotFoundError:
        return []


def _jobs(package: Path, folder: str, suffix: str = ".parquet") -> int:
    try:
        return sum(1 for name in os.listdir(package / folder) if name.startswith("events.") and name.endswith(suffix))
    except FileNotFoundError:
        return 0


def extracting(pipeline: Path) -> list[Path]:
    """Packages an extract is writing: normalize/<random folder of that extract>/<load_id>/."""
    return [package for folder in _dirs(pipeline / "normalize") if folder.name != "extracted"
            for package in _dirs(folder)]


def state_version(pipeline: Path) -> int:
    """The version of the local pipeline state (`state.json`); it goes up when extract saves a new cursor."""
    try:
        return json.loads((pipeline / "state.json").read_text())["_state_version"]
    except (FileNotFoundError, ValueError, KeyError):
        return 0


def pending(pipeline: Path) -> list[str]:
    """Packages an interrupted run left for the next one: extracted, half-normalized or not fully loaded."""
    return [f"{folder}/{package.name}" for folder in ("normalize/extracted", "load/new", "load/normalized")
            for package in _dirs(pipeline / folder)]


def stage(pipeline: Path, version_before: int) -> str:
    """Where a (killed) run stands, from dlt's folders alone."""
    extracted = _dirs(pipeline / "normalize" / "extracted")
    new = _dirs(pipeline / "load" / "new")
    normalized = _dirs(pipeline / "load" / "normalized")
    if normalized and extracted:
        return "normalize-commit"
    if normalized:
        package = normalized[0]
        if _jobs(package, "started_jobs", ".sql") or _jobs(package, "new_jobs", ".sql"):
            return "merge"
        waiting = _jobs(package, "new_jobs") + _jobs(package, "started_jobs")
        if _jobs(package, "completed_jobs") and waiting:
            return "load"
        return "load-start" if waiting else "load-end"
    if new and extracted:
        return "normalize"
    if extracted:
        return "extracted" if state_version(pipeline) > version_before else "extract-commit"
    if any(_jobs(package, "new_jobs") for package in extracting(pipeline)):
        return "extract"
    return "other"


def _extracting_files(p: Path) -> bool:
    return (any(_jobs(package, "new_jobs") >= 3 for package in extracting(p))
            and not _dirs(p / "normalize" / "extracted"))


# When to kill (polled about every millisecond), given the pipeline folder and the state version before the run.
KILL_AT: dict[str, Callable[[Path, int], bool]] = {
    # extract has written a few files and not committed its package
    "extract": lambda p, v: _extracting_files(p),
    # extract committed its package, which carries the new cursor; the local state.json does not have it yet
    "extract-commit": lambda p, v: bool(_dirs(p / "normalize" / "extracted")) and state_version(p) <= v,
    # extract committed its package and saved the new cursor; normalize has not begun
    "extracted": lambda p, v: bool(_dirs(p / "normalize" / "extracted")) and not _dirs(p / "load" / "new")
    and state_version(p) > v,
    # normalize is writing the load package
    "normalize": lambda p, v: any(_jobs(package, "new_jobs") for package in _dirs(p / "load" / "new")),
    # normalize committed the load package and has not yet deleted the extracted one
    "normalize-commit": lambda p, v: bool(_dirs(p / "load" / "normalized")),
    # load: some jobs completed, others waiting or running
    "load": lambda p, v: any(_jobs(package, "completed_jobs") >= 2
                             and _jobs(package, "new_jobs") + _jobs(package, "started_jobs") >= 2
                             for package in _dirs(p / "load" / "normalized")),
    # merge: every file is in the staging table, the merge statement is running
    "merge": lambda p, v: any(_jobs(package, "started_jobs", ".sql") for package in _dirs(p / "load" / "normalized")),
}


@dataclass
class Killed:
    stage: str
    seconds: float
    attempts: int
    pending: list[str]


class Project:
    def __init__(self, root: Path, dsn: str, disposition: str) -> None:
        self.root = root
        (root / "transforms" / "models").mkdir(parents=True)
        (root / "checks" / "contracts").mkdir(parents=True)
        (root / "elt.toml").write_text(PROJECT_TOML.format(chunk=CHUNK, disposition=disposition))
        self.pipeline = root / ".elt" / "dlt" / PIPELINE
        self.warehouse = root / "warehouse" / "crash.duckdb"
        self.env = {**os.environ, "CRASH_APP_DSN": dsn, "RUNTIME__DLTHUB_TELEMETRY": "false",
                    # a file per chunk rather than one per table, so load has many jobs to interrupt
                    "DATA_WRITER__FILE_MAX_ITEMS": str(CHUNK)}
        self.backup = root.parent / "before-killed-run"

    def extract(self) -> subprocess.CompletedProcess:
        result = subprocess.run([str(ELT), "extract", "app"], cwd=self.root, env=self.env, capture_output=True,
                                text=True, timeout=300)
        assert result.returncode == 0, f"elt extract failed:\n{result.stdout}\n{result.stderr[-5000:]}"
        return result

    def _save(self) -> None:
        for name in (".elt", "warehouse"):
            if (self.root / name).exists():
                shutil.copytree(self.root / name, self.backup / name)

    def _restore(self) -> None:
        for name in (".elt", "warehouse"):
            shutil.rmtree(self.root / name, ignore_errors=True)
            if (self.backup / name).exists():
                shutil.copytree(self.backup / name, self.root / name)

    def kill_at(self, point: str) -> Killed:
        """Run `elt extract` and SIGKILL its process group once it reaches `point` (retrying a missed one)."""
        self._save()
        seen = []
        for attempt in range(1, ATTEMPTS + 1):
            self._restore()
            before = state_version(self.pipeline)
            reached, seconds, log = self._run_and_kill(lambda p, v=before: KILL_AT[point](p, v), attempt)
            frozen = stage(self.pipeline, before)
            if reached and frozen == point:
                return Killed(frozen, seconds, attempt, pending(self.pipeline))
            seen.append(f"attempt {attempt}: killed after {seconds:.2f}s, but the run was already at {frozen}"
                        if reached else f"attempt {attempt}: the run finished in {seconds:.2f}s without reaching "
                                        f"{point}; its output ends:\n{log[-1500:]}")
        pytest.fail(f"kill point {point} not reached in {ATTEMPTS} attempts (make ROWS bigger?):\n" + "\n".join(seen))

    def _run_and_kill(self, reached: Callable[[Path], bool], attempt: int) -> tuple[bool, float, str]:
        log = self.root.parent / f"killed-run-{attempt}.log"
        started = time.monotonic()
        with open(log, "w") as out:
            proc = subprocess.Popen([str(ELT), "extract", "app"], cwd=self.root, env=self.env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        try:
            while proc.poll() is None:
                if reached(self.pipeline):
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)
                    return True, time.monotonic() - started, log.read_text()
                if time.monotonic() - started > 240:
                    pytest.fail(f"the run to be killed hangs; its output:\n{log.read_text()[-3000:]}")
                time.sleep(0.0005)
            return False, time.monotonic() - started, log.read_text()
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)


def cursor(stdout: str) -> datetime:
    """The cursor a run saved, from `loaded raw_app: ...; cursors {'events': '2026-...'}`."""
    found = re.search(r"cursors \{'events': '([^']+)'\}", stdout)
    assert found, stdout
    return datetime.fromisoformat(found[1])


def extracted_rows(stdout: str) -> int:
    """Rows a run extracted, from `loaded raw_app: {'events': N}; cursors ...` (0 for `nothing new`)."""
    found = re.search(r"loaded raw_app: (.*?); cursors", stdout)
    assert found, stdout
    counts = re.findall(r"'events': (\d+)", found[1])
    return int(counts[0]) if counts else 0


SCENARIOS = [
    # The killed run is the first: merge (the default with a primary key); meanwhile rows are added and updated.
    ("merge", False, "extract"),
    ("merge", False, "extracted"),
    ("merge", False, "normalize"),
    ("merge", False, "normalize-commit"),
    ("merge", False, "load"),
    ("merge", False, "merge"),
    # The killed run follows a complete one: append, where loading anything twice shows as duplicate keys.
    ("append", True, "extract-commit"),
    ("append", True, "load"),
]


@pytest.mark.parametrize(("disposition", "prior_load", "point"), SCENARIOS,
                         ids=[f"{d}-{'incremental' if p else 'first'}-killed-at-{k}" for d, p, k in SCENARIOS])
def test_killed_run_is_completed_then_new_data_extracted(tmp_path, disposition, prior_load, point):
    postgres.require()
    with postgres.scratch_database("elt_test_crash") as database:
        dsn = postgres.dsn(database)
        create_events(dsn)
        project = Project(tmp_path / "project", dsn, disposition)
        prior_cursor = None
        if prior_load:
            insert_events(dsn, PRIOR_ROWS)
            prior_cursor = cursor(project.extract().stdout)
        insert_events(dsn, ROWS)

        killed = project.kill_at(point)
        # the source moves on while the run lies dead: new rows and (merge) updated ones
        changed = (update_events(dsn) if disposition == "merge" else 0) + NEW_ROWS
        insert_events(dsn, NEW_ROWS)

        started = time.monotonic()
        recovery = project.extract()
        recovery_seconds = time.monotonic() - started
        print(f"\n{disposition}, killed at {killed.stage} after {killed.seconds:.2f}s (attempt {killed.attempts}); "
              f"left {killed.pending or 'nothing pending'}; recovery run {recovery_seconds:.2f}s")

        if killed.pending:
            assert PENDING.format(n=1) in recovery.stderr, recovery.stderr[-5000:]
        else:
            assert "pending load package" not in recovery.stderr, recovery.stderr[-5000:]
        # What the recovery run extracted after completing the package: only the rows changed since, as the
        # package's cursor counts. With nothing committed, all rows after the last complete run's cursor; so too
        # on a first run killed before the local state was saved: dlt then finds no dataset at the destination,
        # wipes the working folder with the package and starts over.
        resumed = bool(killed.pending) and not (point == "extract-commit" and not prior_load)
        expected = changed if resumed else rows_after(dsn, prior_cursor)
        assert extracted_rows(recovery.stdout) == expected, recovery.stdout
        assert pending(project.pipeline) == []
        assert_warehouse_equals_source(dsn, project.warehouse)
        # the cursor stands at the newest row: the next run extracts nothing
        assert cursor(recovery.stdout) == last_updated(dsn), recovery.stdout

        if disposition == "append":  # where rows loaded twice would show; one more run (~3 s) per scenario
            again = project.extract()
            assert "pending load package" not in again.stderr, again.stderr[-5000:]
            assert extracted_rows(again.stdout) == 0, again.stdout
            assert_warehouse_equals_source(dsn, project.warehouse)
