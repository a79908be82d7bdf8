"""A killed `elt run` never blocks the next one, and the next one ends exact; SIGTERM stops a run at once;
two runs started together on a fresh Prefect home do not trip over its start-up.

The runs are the real CLI, each in its own process group, against a real Prefect server and against
Prefect's temporary server (no PREFECT_API_URL). A run is killed (SIGKILL to the whole group, temporary
server included) when its output shows that it reached a stage; the next run must take over without
waiting, say so in one line, and publish exactly what a run that was never killed publishes.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.bad_input import ELT
from tests.conftest import T1, copy_project
from tests.helpers import answers, query

pytestmark = pytest.mark.slow

RAW_COUNTS = "select (select count(*) from raw_shop.customers), (select count(*) from raw_shop.orders), " \
             "(select count(*) from raw_shop.payments)"
# The first line each stage prints, as the run reaches it (the demo's models and contracts).
STAGES = {
    "extract": "extract shop: started",             # the load's progress: extraction has begun
    "build": "built stg_customers",                 # the first of six builds is done
    "verify": "verified orders",                    # the first verification is done; two models still build
    "publish": "models built and verified",         # every build and verification is done: publication begins
}


def _env(prefect: str | None, home: Path) -> dict[str, str]:
    env = {**os.environ, "ELT_NOW": T1, "PREFECT_HOME": str(home), "PYTHONUNBUFFERED": "1"}
    env.pop("PREFECT_API_URL", None)
    if prefect:
        env["PREFECT_API_URL"] = prefect
    return env


def _start(project: Path, env: dict[str, str]) -> subprocess.Popen:
    # As from a terminal: Ctrl-C's SIGINT acts (a shell's background jobs, pytest's parent perhaps, ignore it)
    return subprocess.Popen([str(ELT), "run"], cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _temporary_servers(home: Path) -> list[int]:
    """Pids of Prefect temporary servers still running on `home`."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            environ = (proc / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if b"prefect.server.api.server:create_app" in cmdline and f"PREFECT_HOME={home}".encode() in environ:
            found.append(int(proc.name))
    return found


def _run_until(project: Path, env: dict[str, str], line_start: str, sig: int) -> tuple[str, float]:
    """Start `elt run`, send `sig` to its process group at the first output line containing `line_start`;
    returns what it printed and how many seconds it took to end after the signal. Exits 128 + `sig`."""
    process = _start(project, env)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if line_start in line:
            os.killpg(process.pid, sig)
            break
    else:
        process.wait()
        pytest.fail(f"the run ended before it printed {line_start!r}:\n{''.join(seen)[-3000:]}")
    signalled = time.monotonic()
    rest, _ = process.communicate(timeout=120)
    ended = time.monotonic() - signalled
    output = "".join(seen) + rest
    if sig == signal.SIGKILL:
        _reap(process.pid)
    else:
        assert process.returncode == 128 + sig, f"exit {process.returncode}:\n{output[-3000:]}"
    return output, ended


def _reap(group: int) -> None:
    """SIGKILL leaves nothing to clean up in the group, but wait until the kernel has ended all of it."""
    for _ in range(100):
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _publications(project: Path) -> int:
    """Publications recorded (the run reads the publication in effect before building: the table may exist)."""
    if not query(project, "select * from information_schema.tables where table_schema = '_elt' "
                          "and table_name = 'publications'"):
        return 0
    return query(project, "select count(*) from _elt.publications")[0][0]


def _run(project: Path, env: dict[str, str]) -> str:
    done = subprocess.run([str(ELT), "run"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory, prefect_server) -> dict:
    """What a run that is never killed publishes at T1."""
    project = copy_project(tmp_path_factory.mktemp("reference") / "project")
    _run(project, _env(prefect_server, tmp_path_factory.mktemp("home")))
    return {"answers": answers(project), "raw": query(project, RAW_COUNTS)}


@pytest.fixture(scope="module")
def temporary_home(tmp_path_factory) -> Path:
    """One PREFECT_HOME for every temporary-server run here: only the first pays for a fresh database."""
    return tmp_path_factory.mktemp("temporary_prefect_home")


@pytest.mark.parametrize("server", ["real", "temporary"])
@pytest.mark.parametrize("stage", list(STAGES))
def test_sigkill_then_the_next_run_takes_over_and_ends_exact(stage, server, tmp_path, reference, prefect_server,
                                                              temporary_home):
    project = copy_project(tmp_path / "project")
    env = _env(prefect_server if server == "real" else None, temporary_home if server == "temporary" else tmp_path)
    killed, _ = _run_until(project, env, STAGES[stage], signal.SIGKILL)
    for _ in range(50):  # the kernel tells a temporary server that elt died (it runs in a session of its own)
        if not _temporary_servers(temporary_home):
            break
        time.sleep(0.1)
    assert not _temporary_servers(temporary_home), "a temporary Prefect server outlived the killed run"
    lock = project / "warehouse" / "shop.duckdb.lock"
    assert "pid" in lock.read_text(), f"the run was killed outside its writer lock:\n{killed[-2000:]}"

    after = _run(project, env)
    assert "is held by" not in after, "the next run waited for a dead run"
    takeover = [line for line in after.splitlines() if "taking over from flow run" in line]
    assert len(takeover) == 1 and "which stopped without releasing it" in takeover[0], after[-3000:]
    assert answers(project) == reference["answers"]
    assert query(project, RAW_COUNTS) == reference["raw"]
    assert lock.read_text() == "", "the lock names a holder after a clean end"


def _slot_in_use(api_url: str, project: Path) -> int:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from elt.config import load_project
    from flows.writer import limit_name

    loaded = load_project(project)
    with temporary_settings(updates={PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        return client.read_global_concurrency_limit_by_name(limit_name(loaded, loaded.target())).active_slots


@pytest.mark.parametrize("stage", ["extract", "verify"])
def test_sigterm_while_working_stops_at_once_and_frees_the_warehouse(stage, tmp_path, prefect_server, reference):
    project = copy_project(tmp_path / "project")
    env = _env(prefect_server, tmp_path)
    output, seconds = _run_until(project, env, STAGES[stage], signal.SIGTERM)
    assert seconds < 10, f"took {seconds:.1f}s to stop"
    assert "interrupted" in output and "Traceback" not in output, output[-3000:]
    assert (project / "warehouse" / "shop.duckdb.lock").read_text() == ""
    assert _slot_in_use(prefect_server, project) == 0
    assert _publications(project) == 0, "published after SIGTERM"
    after = _run(project, env)
    assert "taking over" not in after, "a clean stop left something to take over"
    assert answers(project) == reference["answers"]


def test_ctrl_c_on_the_temporary_server_stops_at_once(tmp_path, temporary_home, reference):
    """Ctrl-C in a terminal signals the whole foreground group; Prefect's temporary server must outlive it
    long enough for the run to record that it stopped (else minutes of retries against a dead API)."""
    project = copy_project(tmp_path / "project")
    env = _env(None, temporary_home)
    output, seconds = _run_until(project, env, STAGES["verify"], signal.SIGINT)
    assert seconds < 10, f"took {seconds:.1f}s to stop"
    assert "interrupted" in output and "Traceback" not in output, output[-3000:]
    assert not _temporary_servers(temporary_home)
    after = _run(project, env)
    assert "taking over" not in after
    assert answers(project) == reference["answers"]


def test_sigterm_while_waiting_for_the_warehouse_stops_at_once(tmp_path, prefect_server):
    from elt import warehouse
    from elt.config import load_project

    project = copy_project(tmp_path / "project")
    with warehouse.exclusive(load_project(project).target(), who="flow run nightly-backfill"):
        output, seconds = _run_until(project, _env(prefect_server, tmp_path), "is held by", signal.SIGTERM)
    assert seconds < 10, f"took {seconds:.1f}s to stop"
    assert "held by flow run nightly-backfill" in output
    assert "interrupted" in output and "Traceback" not in output, output[-3000:]
    assert _slot_in_use(prefect_server, project) == 0


def test_two_runs_at_once_on_a_fresh_prefect_home_print_no_traceback(tmp_path):
    """Both start Prefect's temporary server on one new database; they take turns, so it is migrated once."""
    project = copy_project(tmp_path / "project")
    env = _env(None, tmp_path / "fresh_home")
    runs = [_start(project, env) for _ in range(2)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [output[-2000:] for output in outputs]
    for output in outputs:
        assert "Traceback" not in output and "startup failed" not in output, output[-3000:]
    assert sum("published publication 1" in output for output in outputs) == 1


def test_sigterm_stops_elt_extract_and_the_next_extract_completes_it(tmp_path, reference):
    """Outside a flow too: dlt does not hold the signal until its step drains, nor reports it as a failure."""
    project = copy_project(tmp_path / "project")
    env = _env(None, tmp_path)
    process = subprocess.Popen([str(ELT), "extract"], cwd=project, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    seen = []
    for line in process.stdout:
        seen.append(line)
        if "extract shop: started" in line:  # the demo's extraction takes ~0.4 s; normalize and load a few ms
            os.killpg(process.pid, signal.SIGTERM)
            break
    output = "".join(seen) + process.communicate(timeout=30)[0]
    assert process.returncode == 128 + signal.SIGTERM, output[-3000:]
    assert "interrupted" in output and "Traceback" not in output and "error:" not in output, output[-3000:]
    again = subprocess.run([str(ELT), "extract"], cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    assert query(project, RAW_COUNTS) == reference["raw"]
