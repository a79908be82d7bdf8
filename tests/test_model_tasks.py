"""Models build and verify side by side: `threads` per target, worker connections, failures that skip only
what is downstream, and Prefect tasks wired build -> verify (read back from a real Prefect API)."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from elt import warehouse
from elt.config import load_project
from elt.errors import BuildError, ConfigError
from tests.helpers import answers, published, query

pytestmark = pytest.mark.usefixtures("prefect_server")

RAW_PEER = "raw_test.peer"  # one row: what the rendezvous models read


def run(project_dir: Path, **kwargs):
    from flows.elt_flow import elt_pipeline

    return elt_pipeline(project_dir=str(project_dir), **kwargs)


def set_threads(project_dir: Path, threads: int) -> None:
    """`threads = N` in the default target's table of the project's elt.toml."""
    config = project_dir / "elt.toml"
    target = load_project(project_dir).default_target
    text = config.read_text()
    header = f"[targets.{target}]\n"
    assert header in text
    config.write_text(text.replace(header, f"{header}threads = {threads}\n"))


def add_model(project_dir: Path, name: str, sql: str) -> None:
    (project_dir / "transforms" / "models" / "marts" / f"{name}.sql").write_text(
        f"-- materialized: table\n-- description: test model {name}.\n{sql}\n")


def task_runs(flow_run_id, expect: set[str], timeout: float = 30) -> dict:
    """Task runs of a flow run by name, once every name in `expect` is there with a final state (their
    events trail the run)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            found = {t.name: t for t in client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])))}
            if (expect <= set(found) and all(found[n].state and found[n].state.is_final() for n in expect)) \
                    or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def upstream_ids(task_run, parameter: str) -> list:
    return [getattr(i, "id", None) for i in task_run.task_inputs.get(parameter, [])]


# --- side by side --------------------------------------------------------------------------------------

def _rendezvous_duckdb(project_dir: Path, monkeypatch) -> None:
    """A function `rendezvous(x)` on the run's DuckDB connection that returns only once two builds are inside
    it at the same time (a barrier; after 60 s alone it raises, failing that model's build)."""
    barrier = threading.Barrier(2, timeout=60)
    real_connect = warehouse.connect

    def connect(target, read_only: bool = False):
        wh = real_connect(target, read_only)
        if not read_only:
            wh.raw.create_function("rendezvous", lambda x: barrier.wait() * 0 + barrier.parties, ["BIGINT"],
                                   "BIGINT", side_effects=True)
        return wh

    monkeypatch.setattr(warehouse, "connect", connect)
    wh = real_connect(load_project(project_dir).target())
    wh.execute("create schema raw_test")
    wh.execute(f"create table {RAW_PEER} as select 1::bigint as id, '1'::varchar as _dlt_load_id")
    wh.close()
    for name in ("overlap_a", "overlap_b"):
        add_model(project_dir, name, f"select id, rendezvous(id) as met from {RAW_PEER}")


PG_RENDEZVOUS = """
create function raw_test.rendezvous() returns bigint language plpgsql volatile as $$
declare peers bigint;
begin
  -- planning reads the view too (its newest load id): only a model build waits
  if current_query() not ilike 'create table%' then return 0; end if;
  -- "here": a shared session lock, held until the worker's connection closes, so a party that has seen
  -- the other stays visible to it (pg_locks, unlike pg_stat_activity, is read live)
  perform pg_advisory_lock_shared(4242);
  for i in 1..1200 loop
    select count(distinct pid) into peers from pg_locks
     where locktype = 'advisory' and objid = 4242 and granted
       and database = (select oid from pg_database where datname = current_database());
    if peers >= 2 then return peers; end if;
    perform pg_sleep(0.05);
  end loop;
  raise exception 'rendezvous: no other model was building at the same time';
end $$;
"""


def _rendezvous_postgres(project_dir: Path) -> None:
    """The view raw_test.peer, whose column `met` is computed by a function that returns only once two model
    builds read the view at the same time (models cannot call unknown functions on Postgres: a view can)."""
    import psycopg

    with psycopg.connect(load_project(project_dir).target().dsn(), autocommit=True) as con:
        con.execute("create schema raw_test")
        con.execute("create table raw_test.one as select 1::bigint as id, '1'::varchar as _dlt_load_id")
        con.execute(PG_RENDEZVOUS)
        con.execute(f"create view {RAW_PEER} as select id, raw_test.rendezvous() as met, _dlt_load_id "
                    "from raw_test.one")
    for name in ("overlap_a", "overlap_b"):
        add_model(project_dir, name, f"select id, met from {RAW_PEER}")


def test_independent_models_build_at_the_same_time(any_project, monkeypatch):
    """Two models that can only finish building while the other one is building too."""
    if load_project(any_project).target().type == "duckdb":
        _rendezvous_duckdb(any_project, monkeypatch)
    else:
        _rendezvous_postgres(any_project)
    summary = run(any_project)
    assert {b.model: b.status for b in summary.builds}["overlap_a"] == "built"
    assert {b.status for b in summary.builds} == {"built"} and summary.gate.passed
    for name in ("overlap_a", "overlap_b"):
        assert query(any_project, f"select met from analytics.{name}")[0][0] >= 2, f"{name} met no other build"


def test_threads_1_builds_one_after_another_and_publishes(any_project):
    set_threads(any_project, 1)
    assert load_project(any_project).target().threads == 1
    summary = run(any_project)
    assert {b.status for b in summary.builds} == {"built"} and summary.gate.passed
    assert set(published(any_project)) == {"orders", "customers", "daily_revenue"}


@pytest.mark.parametrize("tasks", ["per model", "per wave"])
def test_a_failing_model_skips_its_downstream_and_nothing_is_published(any_project, tasks, monkeypatch):
    from flows import model_tasks

    if tasks == "per wave":
        monkeypatch.setattr(model_tasks, "PER_MODEL_TASKS", 0)
    add_model(any_project, "broken_mid", "select order_id, cast(status as integer) as status_number from stg_orders")
    add_model(any_project, "below_broken", "select count(*) as n from broken_mid")
    add_model(any_project, "below_below", "select n from below_broken")
    state = run(any_project, return_state=True)
    assert state.is_failed()
    with pytest.raises(BuildError) as err:
        state.result()
    message = str(err.value)
    assert "1 model(s) failed: broken_mid; nothing was published" in message
    assert "model broken_mid failed to build" in message and "broken_mid.sql:" in message
    assert "not built because an upstream model failed: below_broken, below_below" in message
    views = query(any_project, "select count(*) from information_schema.tables where table_schema = 'analytics'")
    assert views == [(0,)], "nothing is published"
    [blocked] = query(any_project, "select reason, failures from _elt.blocked_runs")  # for `elt history`
    assert blocked[0] == "build" and "model broken_mid failed to build" in blocked[1]

    from tests.test_pipeline import _artifacts

    rows = _artifacts(state.state_details.flow_run_id)["run-summary"].data
    rows = rows if isinstance(rows, list) else json.loads(rows)
    builds = {r["name"]: r["result"] for r in rows if r["step"] == "build"}
    assert builds.pop("broken_mid") == "failed"
    assert builds.pop("below_broken") == builds.pop("below_below") == "skipped: upstream broken_mid failed"
    assert set(builds.values()) == {"built"} and len(builds) == 6, "every other model still built"
    checks = {r["name"].split(":")[0] for r in rows if r["step"] == "check"}
    assert checks == {"orders", "customers", "daily_revenue"}, "and was verified"


def test_a_failing_check_does_not_stop_the_models_below(project_dir):
    """A failed verification leaves the decision to the gate: everything downstream still builds and verifies."""
    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 10000000"))
    state = run(project_dir, return_state=True)
    from elt.errors import GateError

    with pytest.raises(GateError) as err:
        state.result()
    report = err.value.report
    assert {o.model for o in report.failures} == {"orders"}
    assert {o.model for o in report.outcomes} == {"orders", "customers", "daily_revenue"}


def test_a_changed_contract_is_verified_at_the_next_run_without_new_data(project_dir):
    """Unchanged published versions cost no check, unless their contract changed since they passed it."""
    from elt.errors import GateError

    run(project_dir)
    contract = project_dir / "checks" / "contracts" / "orders.yml"
    original = contract.read_text()
    contract.write_text(original.replace("must_be_greater_than: 0", "must_be_greater_than: 10000000"))
    with pytest.raises(GateError, match="orders: row_count: FAILED"):
        run(project_dir)
    contract.write_text(original.replace("must_be_greater_than: 0", "must_be_greater_than: 1"))
    loosened = run(project_dir)
    assert {o.model for o in loosened.gate.outcomes} == {"orders"}, "only the model whose contract changed"
    assert loosened.publication is None, "same versions: nothing to publish"
    again = run(project_dir)
    assert again.gate.outcomes == (), "passed under this contract already"


# --- Prefect tasks ---------------------------------------------------------------------------------------

def test_each_verify_task_has_its_build_as_input_and_a_no_op_run_has_no_model_tasks(project_dir):
    summary = run(project_dir)
    contracts = {"orders", "customers", "daily_revenue"}
    names = {f"build-{b.model}" for b in summary.builds} | {f"verify-{m}" for m in contracts}
    found = task_runs(summary.run_id, names)
    assert names <= set(found)
    for model in contracts:
        assert upstream_ids(found[f"verify-{model}"], "build") == [found[f"build-{model}"].id]
    assert not any(name.startswith("verify-stg_") for name in found), "no contract: nothing to verify"

    again = run(project_dir)
    assert {b.status for b in again.builds} == {"skipped"} and again.publication is None
    later = task_runs(again.run_id, {"publish"})
    assert "publish" in later
    assert not [n for n in later if n.startswith(("build", "verify"))], "a no-op run creates no model task"


def test_many_models_build_in_one_task_per_wave(project_dir, monkeypatch):
    from flows import model_tasks

    monkeypatch.setattr(model_tasks, "PER_MODEL_TASKS", 0)
    summary = run(project_dir)
    assert {b.status for b in summary.builds} == {"built"} and summary.gate.passed
    assert set(published(project_dir)) == {"orders", "customers", "daily_revenue"}
    # the demo's waves: staging, orders, then customers and daily_revenue
    expect = {"build-wave-1", "build-wave-2", "build-wave-3", "verify-wave-2", "verify-wave-3"}
    found = task_runs(summary.run_id, expect)
    assert expect <= set(found)
    assert not [n for n in found if n.startswith("build-") and not n.startswith("build-wave-")]
    for wave in (2, 3):
        assert upstream_ids(found[f"verify-wave-{wave}"], "built") == [found[f"build-wave-{wave}"].id]
    assert "verify-wave-1" not in found, "staging has no contract"


@pytest.mark.parametrize("tasks", ["per model", "per wave"])
def test_a_contract_reading_a_model_downstream_is_verified_after_its_build(project_dir, monkeypatch, tasks):
    """orders' contract reads customers (${ref.customers}), which is built from orders, a wave later: orders is
    verified once customers is built, against that candidate, and the run graph shows the wait."""
    from flows import model_tasks

    if tasks == "per wave":
        monkeypatch.setattr(model_tasks, "PER_MODEL_TASKS", 0)
    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text() + """  - failed_rows:
      qualifier: customer_exists
      query: select o.* from ${var.RELATION} o where o.customer_id not in (select customer_id from ${ref.customers})
""")
    summary = run(project_dir)
    checked = [o for o in summary.gate.outcomes if o.check == "failed_rows[customer_exists]"]
    assert [(o.outcome, o.value) for o in checked] == [("PASSED", 0)]
    if tasks == "per model":
        found = task_runs(summary.run_id, {"verify-orders", "build-customers"})
        assert upstream_ids(found["verify-orders"], "wait_for") == [found["build-customers"].id]
    else:
        found = task_runs(summary.run_id, {"verify-wave-3", "build-wave-2", "build-wave-3"})
        assert set(upstream_ids(found["verify-wave-3"], "built")) == {found["build-wave-2"].id,
                                                                      found["build-wave-3"].id}
        assert "verify-wave-2" not in found, "orders waits for customers, in wave 3"


def test_threads_do_not_change_the_answers(tmp_path, monkeypatch):
    from tests.conftest import T1, copy_project

    monkeypatch.setenv("ELT_NOW", T1)
    digests = []
    for threads in (1, 4):
        project = copy_project(tmp_path / f"threads_{threads}")
        set_threads(project, threads)
        run(project)
        digests.append(answers(project))
    assert digests[0] == digests[1]


# --- worker connections and config -----------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["duckdb", "postgres"])
def test_a_worker_connection_has_its_own_transactions(kind, tmp_path, monkeypatch):
    from tests.conftest import warehouse_target

    with warehouse_target(kind, tmp_path, monkeypatch) as target:
        wh = warehouse.connect(target)
        worker = wh.worker()
        try:
            wh.execute("create table t (x integer)")
            with worker.transaction():
                worker.execute("insert into t values (1)")
                assert wh.execute("select count(*) from t").fetchone()[0] == 0, "not committed yet"
            assert wh.execute("select count(*) from t").fetchone()[0] == 1
            if kind == "postgres":
                pids = {w.execute("select pg_backend_pid()").fetchone()[0] for w in (wh, worker)}
                assert len(pids) == 2, "one connection per worker"
        finally:
            worker.close()
            wh.close()


VALID = '[project]\nname = "p"\n[targets.dev]\ntype = "duckdb"\npath = "p.duckdb"\n' \
        '[targets.pg]\ntype = "postgres"\n'


def test_threads_default_per_target_and_can_be_set(tmp_path):
    (tmp_path / "elt.toml").write_text(VALID)
    project = load_project(tmp_path)
    assert project.target("dev").threads == 4 and project.target("pg").threads == 4
    (tmp_path / "elt.toml").write_text(VALID.replace('path = "p.duckdb"', 'path = "p.duckdb"\nthreads = 8')
                                       .replace('type = "postgres"', 'type = "postgres"\nthreads = 1'))
    project = load_project(tmp_path)
    assert project.target("dev").threads == 8 and project.target("pg").threads == 1


@pytest.mark.parametrize("value, fragment", [
    ("0", "must be at least 1, got 0"),
    ("-2", "must be at least 1, got -2"),
    ('"4"', "expected int, got str '4'"),
    ("2.5", "expected int, got float 2.5"),
    ("true", "expected int, got bool True"),
])
@pytest.mark.parametrize("target", ["dev", "pg"])
def test_bad_threads_name_file_and_key(tmp_path, value, fragment, target):
    header = f"[targets.{target}]\n"
    (tmp_path / "elt.toml").write_text(VALID.replace(header, f"{header}threads = {value}\n"))
    with pytest.raises(ConfigError) as err:
        load_project(tmp_path)
    assert str(err.value).startswith(f"{tmp_path / 'elt.toml'}: targets.{target}.threads: {fragment}")
