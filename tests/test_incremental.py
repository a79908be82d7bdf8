"""Incremental models on DuckDB and Postgres: after every run of a seeded random sequence each incremental
model equals a full rebuild of the same SQL over the same raw data, row by row; a blocked delta changes
no answer and the next good run catches up; rollback restores the previous answers exactly; a change of
SQL rebuilds in full.

Each incremental model has a twin: the same SQL as a `table` model, built in the same run from the same
raw data. The demo shop's clock moves by a random step per run, so runs bring new orders and orders that
change status (dlt merges them: a changed order replaces its raw row under a new `_dlt_load_id`).
"""
from __future__ import annotations

import hashlib
import random
from pathlib import Path

import pytest

from elt import publish as publishing
from elt import warehouse
from elt.config import load_project
from tests.helpers import answers, query

pytestmark = pytest.mark.usefixtures("prefect_server")

# name -> (header, SQL): each becomes an incremental model and its `<name>_full` table twin.
MODELS = {
    # grouped by its unique key: a customer with a new or changed order is recomputed whole
    "customer_totals": ("-- unique_key: customer_id", """
select o.customer_id, count(*) as orders, sum(o.amount) as amount, max(o.updated_at) as updated_at
from stg_orders as o
group by o.customer_id"""),
    # driven by an incremental upstream, with a filter that drops orders as they move on
    "open_orders": ("-- unique_key: order_id", """
select o.order_id, o.customer_id, o.status, o.amount, o.paid_amount
from {orders} as o
where o.status in ('placed', 'paid')"""),
    # append: payments never change, so appending each new load equals rebuilding
    "payment_log": ("", """
select p.payment_id, p.order_id, p.payment_method, p.paid_amount
from stg_payments as p"""),
}
INCREMENTAL = ("orders", *MODELS)
CONTRACT_THAT_FAILS = """columns:
  - name: payment_id
  - name: order_id
  - name: payment_method
  - name: paid_amount
checks:
  - row_count:
      threshold:
        must_be_less_than: 1
"""


def add_models(project: Path) -> None:
    marts = project / "transforms" / "models" / "marts"
    orders = (marts / "orders.sql").read_text()
    (marts / "orders_full.sql").write_text(orders.replace("-- materialized: incremental\n-- unique_key: order_id\n",
                                                          "-- materialized: table\n"))
    for name, (header, sql) in MODELS.items():
        (marts / f"{name}.sql").write_text(f"-- materialized: incremental\n{header}\n" + sql.format(orders="orders"))
        (marts / f"{name}_full.sql").write_text("-- materialized: table\n" + sql.format(orders="orders_full"))


def differences(project: Path, name: str) -> tuple[int, int]:
    """(rows only in the incremental model, rows only in its full rebuild), duplicates counted."""
    mine, full = f"analytics.{name}", f"analytics.{name}_full"
    return query(project, f"select (select count(*) from (select * from {mine} except all select * from {full}) a), "
                          f"(select count(*) from (select * from {full} except all select * from {mine}) b)")[0]


def run(project: Path, **params):
    from flows.elt_flow import elt_pipeline

    return elt_pipeline(project_dir=str(project), **params)


def assert_exact(project: Path, step: str) -> None:
    for name in INCREMENTAL:
        assert differences(project, name) == (0, 0), f"{step}: {name} differs from its full rebuild"


def test_random_runs_equal_full_rebuilds(any_project, monkeypatch):
    add_models(any_project)
    contract = any_project / "checks" / "contracts" / "payment_log.yml"
    rng = random.Random(10)
    hours = 24 * 9  # the fixture's clock: 2026-01-10
    batches_built = 0
    for step in range(12):
        hours += rng.choice([0, 1, 3, 7, 20, 50])
        monkeypatch.setenv("ELT_NOW", _at(hours))
        if step == 6:  # a delta that fails its contract: nothing changes, nothing is lost
            before = answers(any_project)
            contract.write_text(CONTRACT_THAT_FAILS)
            hours += 5
            monkeypatch.setenv("ELT_NOW", _at(hours))
            from elt.errors import GateError

            with pytest.raises(GateError, match="payment_log"):
                run(any_project)
            assert answers(any_project) == before, "a blocked delta left every published answer as it was"
            contract.unlink()
            hours += 2
            monkeypatch.setenv("ELT_NOW", _at(hours))
        summary = run(any_project)
        built = {b.model for b in summary.builds if b.status == "built"}
        batches_built += len(built & set(INCREMENTAL))
        assert_exact(any_project, f"run {step} at {_at(hours)}")
        if step == 9:  # roll the last publication back: the answers before it, exactly
            previous = _answers_of(any_project, -2)
            _rollback(any_project)
            assert answers(any_project) == previous
            run(any_project)  # the rolled-back loads are read again
            assert_exact(any_project, "after rollback")
    storages = query(any_project, "select count(distinct storage), max(batch) from _elt.batches where model = 'orders'")
    assert storages[0][0] == 1 and storages[0][1] >= 8, "orders grew by batches in one storage, never rebuilt"
    assert batches_built >= 30


def test_sql_change_rebuilds_in_full_and_full_refresh_forces_it(any_project, monkeypatch):
    add_models(any_project)
    run(any_project)
    monkeypatch.setenv("ELT_NOW", _at(24 * 9 + 30))
    run(any_project)
    storage = _storage(any_project, "customer_totals")
    path = any_project / "transforms" / "models" / "marts" / "customer_totals.sql"
    path.write_text(path.read_text().replace("max(o.updated_at) as updated_at", "max(o.updated_at) as updated_at, "
                                             "min(o.amount) as smallest"))
    (path.with_name("customer_totals_full.sql")).write_text(
        path.with_name("customer_totals_full.sql").read_text().replace(
            "max(o.updated_at) as updated_at", "max(o.updated_at) as updated_at, min(o.amount) as smallest"))
    summary = run(any_project)
    rebuilt = _storage(any_project, "customer_totals")
    assert rebuilt != storage, "a changed model starts a new storage, built in full"
    assert "smallest" in [c[0] for c in query(any_project, "select column_name from information_schema.columns "
                                                           "where table_schema = 'analytics' and table_name = "
                                                           "'customer_totals'")]
    assert_exact(any_project, "after the SQL change")
    assert "customer_totals" in {b.model for b in summary.builds if b.status == "built"}
    run(any_project, full_refresh=["orders"])
    assert _storage(any_project, "orders") != storage and _batches(any_project, "orders") == [1]
    assert_exact(any_project, "after --full-refresh orders")


@pytest.mark.slow
def test_sigkill_during_the_merge_then_the_next_run_ends_exact(any_project, prefect_server):
    """Killed inside the build's transaction (Postgres: blocked in the UPDATE that retires replaced rows, by
    a row lock the test holds) or just after it committed (DuckDB: the batch is written, not published);
    the next run forgets the unpublished batch, reads those loads again and ends exact."""
    import os
    import signal

    from tests.test_interrupted_runs import _env, _reap, _run, _start

    add_models(any_project)
    env = _env(prefect_server, any_project.parent / "home")
    _run(any_project, {**env, "ELT_NOW": _at(24 * 9)})
    before = answers(any_project)
    env["ELT_NOW"] = _at(24 * 9 + 30)
    if "ELT_PG_DSN" in os.environ:
        import psycopg

        storage = _storage(any_project, "orders")
        dsn = os.environ["ELT_PG_DSN"]
        with psycopg.connect(dsn) as blocker, psycopg.connect(dsn, autocommit=True) as watcher:
            blocker.execute(f"select 1 from {storage} where _elt_superseded is null for update").fetchall()
            process = _start(any_project, env)
            backend = _wait_for(watcher, f"update {storage} set _elt_superseded")
            os.killpg(process.pid, signal.SIGKILL)
            _reap(process.pid)
            watcher.execute("select pg_terminate_backend(%s)", [backend])
    else:
        process = _start(any_project, env)
        for line in process.stdout:
            if "built orders (batch 2" in line:
                os.killpg(process.pid, signal.SIGKILL)
                break
        _reap(process.pid)
    assert answers(any_project) == before, "the killed run changed nothing consumers see"
    _run(any_project, env)
    assert_exact(any_project, "after the killed run")
    assert query(any_project, "select count(*) - count(distinct order_id) from analytics.orders")[0][0] == 0
    assert _batches(any_project, "orders") == [1, 2]


def _wait_for(con, statement: str, seconds: float = 120) -> int:
    """The backend pid of a session blocked on a lock while running `statement`."""
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        row = con.execute("select pid from pg_stat_activity where wait_event_type = 'Lock' and query ilike %s",
                          [f"%{statement}%"]).fetchone()
        if row:
            return row[0]
        time.sleep(0.05)
    raise AssertionError(f"no session blocked in {statement!r} within {seconds}s")


def _at(hours: int) -> str:
    day, hour = divmod(hours, 24)
    return f"2026-01-{1 + day:02d}T{hour:02d}:00:00Z" if day < 31 else f"2026-02-{day - 30:02d}T{hour:02d}:00:00Z"


def _storage(project: Path, model: str) -> str:
    pointer = dict(query(project, "select model, relation from _elt.publication_models "
                                  "where publication_id = (select max(id) from _elt.publications)"))
    return pointer[f"{model}@storage"]


def _batches(project: Path, model: str) -> list[int]:
    storage = _storage(project, model)
    return [r[0] for r in query(project, "select batch from _elt.batches where storage = ? order by batch", [storage])]


def _answers_of(project: Path, index: int) -> dict[str, str]:
    """The answers publication `index` (-1 the newest) gives, read from the relations it points at."""
    ids = [r[0] for r in query(project, "select id from _elt.publications order by id")]
    models = query(project, "select model, relation from _elt.publication_models where published and "
                            "publication_id = ? order by model", [ids[index]])
    return {name: hashlib.sha256(repr(sorted(query(project, f"select * from {relation}"), key=repr)).encode())
            .hexdigest() for name, relation in models}


def _rollback(project: Path) -> None:
    target = load_project(project).target()
    wh = warehouse.connect(target)
    try:
        publishing.rollback(wh, load_project(project).published_schema, "test-rollback")
    finally:
        wh.close()
