"""The `elt` command end to end, in subprocesses, on a temp copy of the project."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from tests.bad_input import elt as run_elt
from tests.conftest import T1, T2
from tests.helpers import answers, query


def elt(project_dir: Path, *args: str, api_url: str | None = None, now: str = T1) -> subprocess.CompletedProcess:
    return run_elt(project_dir, *args, env={"ELT_NOW": now} | ({"PREFECT_API_URL": api_url} if api_url else {}))


@pytest.mark.slow
def test_run_twice_then_history_and_rollback(project_dir, prefect_server):
    first = elt(project_dir, "run", api_url=prefect_server)
    assert first.returncode == 0, first.stderr
    assert "loaded   raw_shop: customers 216, orders 1296, payments 1242" in first.stdout
    assert "built    6 model(s)" in first.stdout
    # the contracts' 24 checks, and the incremental orders' delta keys against the rows they join
    assert "checked  25/25 checks passed" in first.stdout
    assert "published publication 1: analytics.customers, analytics.daily_revenue, analytics.orders" in first.stdout
    assert "warehouse warehouse/shop.duckdb" in first.stdout
    assert "-- Extract shop --" not in first.stderr, "dlt's progress blocks are not the console's"
    assert "build-orders: Finished in state Completed()" not in first.stderr, "nor a line per routine task end"
    before = answers(project_dir)

    unchanged = elt(project_dir, "run", api_url=prefect_server)
    assert unchanged.returncode == 0, unchanged.stderr
    assert "loaded   raw_shop: nothing new" in unchanged.stdout
    assert "built    0 model(s); 6 unchanged" in unchanged.stdout
    assert "published nothing new" in unchanged.stdout

    later = elt(project_dir, "run", api_url=prefect_server, now=T2)
    assert later.returncode == 0 and "published publication 2" in later.stdout
    assert answers(project_dir) != before

    history = elt(project_dir, "history", "-v")
    assert history.returncode == 0
    lines = history.stdout.splitlines()
    assert lines[0].split()[:4] == ["2", *lines[0].split()[1:3], "publish"] and "checks 25/25 passed" in lines[0]
    assert any(line.strip().startswith("analytics.orders -> _elt.orders__") for line in lines)
    parsed = json.loads(elt(project_dir, "history", "--json").stdout)
    assert [(p["id"], p["kind"]) for p in parsed] == [(2, "publish"), (1, "publish")]
    assert parsed[0]["summary"]["passed"] == 25 and parsed[0]["models"]["orders"].startswith("_elt.orders__")
    datetime.fromisoformat(parsed[0]["published_at"])

    rollback = elt(project_dir, "rollback")
    assert rollback.returncode == 0 and "restores publication 1" in rollback.stdout
    assert answers(project_dir) == before

    # compiled SQL reads what the publication in effect points at, so it runs on the target as it is
    compiled = elt(project_dir, "compile", "daily_revenue", "stg_orders")
    assert compiled.returncode == 0, compiled.stderr
    assert compiled.stdout.startswith("-- stg_orders (duckdb; reads what publication 3 on dev points at)")
    stg_orders, revenue = [part.split("\n", 1)[1].strip().rstrip(";") for part in compiled.stdout.split("\n\n-- ")]
    assert "FROM analytics.orders" in revenue
    assert sorted(query(project_dir, revenue)) == sorted(query(project_dir, "select * from analytics.daily_revenue"))
    assert "raw_shop.orders" in stg_orders and query(project_dir, f"select count(*) from ({stg_orders})")[0][0] > 0

    shown = elt(project_dir, "show", "daily_revenue", "--limit", "3")
    assert shown.returncode == 0, shown.stderr
    header, rule, *rows = shown.stdout.splitlines()
    assert header.split() == ["order_date", "orders", "customers", "revenue", "updated_at"] and len(rows) == 3
    assert "3 row(s) of daily_revenue, at most 3 (reads what publication 3 on dev points at)" in shown.stderr
    revenue_sql = project_dir / "transforms/models/marts/daily_revenue.sql"
    written = revenue_sql.read_text()
    revenue_sql.write_text(
        "-- materialized: table\nselect status, count(*) as n from orders group by status order by status")
    changed = elt(project_dir, "show", "daily_revenue")  # the SQL as it is now, before any run
    assert changed.returncode == 0 and changed.stdout.split()[:2] == ["status", "n"], changed.stderr
    assert [line.split()[0] for line in changed.stdout.splitlines()[2:]] == sorted(
        r[0] for r in query(project_dir, "select distinct status from analytics.orders"))
    typo = elt(project_dir, "show", "daily_revenu")
    assert typo.returncode == 1 and "did you mean daily_revenue?" in typo.stderr

    revenue_sql.write_text(written)
    verified = elt(project_dir, "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "checked  24/24 checks passed against publication 3 on dev; nothing was published" in verified.stderr
    assert all(line.startswith("PASSED") for line in verified.stdout.splitlines())
    contract = project_dir / "checks/contracts/orders.yml"
    contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 1000000"))
    strict = elt(project_dir, "verify", "orders", "--json")
    assert strict.returncode == 1
    report = json.loads(strict.stdout)
    assert report["against"] == "publication 3" and report["failed"] == 1
    assert [o["check"] for o in report["outcomes"] if not o["passed"]] == ["row_count"]
    assert answers(project_dir) == before and "published publication" not in strict.stdout


def test_lint_and_compile(project_dir):
    lint = elt(project_dir, "lint")
    assert lint.returncode == 0 and "6 model(s) OK, 3 contract(s) OK" in lint.stderr
    compiled = elt(project_dir, "compile", "--dialect", "postgres", "daily_revenue")
    assert compiled.returncode == 0
    assert "DATE_TRUNC('DAY', ordered_at)" in compiled.stdout


def test_lint_reports_and_fails(project_dir):
    bad = project_dir / "transforms" / "models" / "marts" / "bad.sql"
    bad.write_text("-- materialized: table\nselect *, o.colour\nfrom orders o join stg_customers c on c.customer_id = "
                   "o.customer_id\nwhere status = 'x' and customer_id > 0\n")
    result = elt(project_dir, "lint")
    assert result.returncode == 1
    out = result.stdout.splitlines()
    assert out[0] == "transforms/models/marts/bad.sql:2:8: L005 SELECT * in a mart: list the columns consumers get"
    assert out[1].startswith("transforms/models/marts/bad.sql:2:11: L003 column o.colour does not exist (has: ")
    assert out[2].startswith("transforms/models/marts/bad.sql:4:24: L004 column customer_id is ambiguous")
    assert "problem(s)" in result.stderr and "Traceback" not in result.stderr


def test_lint_answers_from_memory_only_when_nothing_changed(project_dir):
    unchanged = "(nothing changed since the last lint)"
    first = elt(project_dir, "lint")
    assert first.returncode == 0 and unchanged not in first.stderr
    again = elt(project_dir, "lint")
    assert again.returncode == 0 and f"6 model(s) OK, 3 contract(s) OK {unchanged}" in again.stderr
    assert unchanged not in elt(project_dir, "lint", "--no-cache").stderr

    model = project_dir / "transforms" / "models" / "marts" / "daily_revenue.sql"
    text = model.read_text()
    model.write_text(text.replace("ordered_at", "orderd_at", 1))  # a problem is always found afresh
    broken = elt(project_dir, "lint")
    assert broken.returncode == 1 and "L003 column orderd_at does not exist" in broken.stdout, broken.stdout
    assert elt(project_dir, "lint").returncode == 1
    model.write_text(text)
    assert unchanged in elt(project_dir, "lint").stderr  # the very state that was clean

    contract = project_dir / "checks" / "contracts" / "orders.yml"
    contract.write_text(contract.read_text().replace("  - name: status\n", "  - name: state\n"))
    changed = elt(project_dir, "lint")
    assert changed.returncode == 1 and "does not produce a column 'state'" in changed.stderr

    contract.write_text(contract.read_text().replace("  - name: state\n", "  - name: status\n"))
    new_file = project_dir / "transforms" / "models" / "marts" / "extra.sql"
    new_file.write_text("-- materialized: view\nselect 1 as one\n")
    added = elt(project_dir, "lint")
    assert added.returncode == 0 and "7 model(s) OK" in added.stderr and unchanged not in added.stderr


def test_user_errors_have_no_traceback_unless_debug(project_dir):
    (project_dir / "elt.toml").write_text((project_dir / "elt.toml").read_text().replace(
        'type = "duckdb"', 'type = "oracle"'))
    result = elt(project_dir, "lint")
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: elt.toml: targets.dev.type: 'oracle' is not supported — "
                                     "valid values: duckdb, postgres, snowflake, bigquery, databricks, motherduck")
    debug = elt(project_dir, "--debug", "lint")
    assert debug.returncode == 1 and "Traceback" in debug.stderr


def test_rollback_before_any_run(project_dir):
    result = elt(project_dir, "rollback")
    assert result.returncode == 1 and "does not exist yet — run `elt run` first" in result.stderr


@pytest.mark.slow
def test_flow_runs_as_a_python_module(project_dir, prefect_server):
    env = {**os.environ, "ELT_NOW": T1, "PREFECT_API_URL": prefect_server}
    result = subprocess.run([sys.executable, "-m", "flows.elt_flow"], cwd=project_dir, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Finished in state Completed()" in result.stderr
    assert answers(project_dir).keys() == {"customers", "daily_revenue", "orders"}


@pytest.mark.slow
def test_postgres_credentials_never_leak(project_dir, prefect_server, monkeypatch):
    """Every output of failing runs on Postgres, --debug included, and every file they leave: no password."""
    from tests import postgres

    postgres.require()
    with postgres.scratch_database("elt_test") as database:
        env_dsn = postgres.dsn(database)
        assert postgres.TEST_PASSWORD in env_dsn
        monkeypatch.setenv("ELT_PG_DSN", env_dsn)
        contract = project_dir / "checks" / "contracts" / "orders.yml"
        contract.write_text(contract.read_text().replace("must_be_greater_than: 0", "must_be_greater_than: 10000000"))
        gate = elt(project_dir, "--debug", "run", "--target", "pg", api_url=prefect_server)
        assert gate.returncode == 1 and "orders: row_count: FAILED" in gate.stderr
        monkeypatch.setenv("ELT_PG_DSN", env_dsn.replace(":5432/", ":1/"))  # nothing listens on port 1
        unreachable = elt(project_dir, "--debug", "run", "--target", "pg", api_url=prefect_server)
        assert unreachable.returncode == 1 and "Traceback" in unreachable.stderr
        assert "cannot connect to target pg" in unreachable.stderr or "Connection refused" in unreachable.stderr
        history = elt(project_dir, "history", "--target", "pg")
        outputs = [gate.stdout, gate.stderr, unreachable.stdout, unreachable.stderr, history.stdout, history.stderr]
        files = [p.read_text(errors="replace") for p in project_dir.rglob("*") if p.is_file()]
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter

    with get_client(sync_client=True) as client:
        logs = [log.message for log in client.read_logs(log_filter=LogFilter(), limit=200)]
        artifacts = [str(a.data) for a in client.read_artifacts(limit=200)]
    for text in outputs + files + logs + artifacts:
        assert postgres.TEST_PASSWORD not in text


def test_compile_only_targets(project_dir):
    compiled = elt(project_dir, "compile", "--target", "snowflake", "orders")
    assert compiled.returncode == 0 and compiled.stdout.startswith(
        "-- orders (snowflake; models by name: a compile-only target)")
    refused = elt(project_dir, "run", "--target", "bigquery")
    assert refused.returncode == 1
    assert refused.stderr.strip().endswith("target bigquery (bigquery) can be compiled for but not run here — use a "
                                           "duckdb or postgres target for `elt run`; `elt compile --target` works "
                                           "for all")


def test_commands_on_compile_only_targets_say_so(project_dir):
    for args in (["extract", "--target", "snowflake"], ["history", "--target", "snowflake"]):
        result = elt(project_dir, *args)
        assert result.returncode == 1 and "can be compiled for but not run here" in result.stderr, args
        assert "Traceback" not in result.stderr


def test_a_warehouse_file_held_by_another_program(project_dir):
    path = project_dir / "warehouse" / "shop.duckdb"
    path.parent.mkdir()
    script = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('open', flush=True); time.sleep(30)"
    holder = subprocess.Popen([sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        result = elt(project_dir, "history")
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert "close the other program that has the file open" in result.stderr
    finally:
        holder.kill()


def test_sources_shows_cursor_last_load_and_rows(project_dir):
    before = elt(project_dir, "sources")
    assert before.returncode == 0
    assert before.stdout.splitlines()[0] == "shop (demo_shop) -> raw_shop on dev; last load: never"
    assert elt(project_dir, "extract").returncode == 0
    after = elt(project_dir, "sources").stdout.splitlines()
    assert after[0].startswith("shop (demo_shop) -> raw_shop on dev; last load: 20")
    orders = next(line.split() for line in after if line.strip().startswith("orders"))
    assert orders[1:5] == ["1296", "rows", "cursor", "2026-01-09T23:58:13.213536+00:00"]
    parsed = json.loads(elt(project_dir, "sources", "--json").stdout)
    assert [(s["source"], s["dataset"], s["target"]) for s in parsed] == [("shop", "raw_shop", "dev")]
    assert parsed[0]["rows"]["orders"] == 1296 and parsed[0]["last_load"].startswith("20")


def test_a_selector_typo_is_refused_before_anything_starts(project_dir):
    result = elt(project_dir, "run", "--select", "+order+")
    assert result.returncode == 1
    assert result.stderr.strip() == ("error: unknown model 'order' in selector '+order+' — "
                                     "did you mean orders or stg_orders?")
    assert "temporary server" not in result.stdout + result.stderr
    assert not (project_dir / "warehouse").exists()  # nothing extracted, nothing created
    excluded = elt(project_dir, "run", "--exclude", "tag:fnance")
    assert excluded.returncode == 1 and "did you mean tag:finance?" in excluded.stderr


@pytest.mark.slow
def test_a_selection_extracts_only_the_sources_its_models_read(project_dir, prefect_server):
    (project_dir / "inbox").mkdir()
    (project_dir / "inbox" / "scores.csv").write_text("id,score\n1,0.5\n2,0.75\n")
    with (project_dir / "elt.toml").open("a") as toml:
        toml.write('\n[sources.drops]\nkind = "filesystem"\nbucket_url = "inbox"\n'
                   '[sources.drops.resources.scores]\nglob = "*.csv"\ncolumns = { id = "bigint", score = "double" }\n')
    (project_dir / "transforms" / "models" / "marts" / "scores.sql").write_text(
        "-- materialized: table\nselect id, score from raw_drops.scores\n")

    shop_only = elt(project_dir, "run", "--select", "daily_revenue", api_url=prefect_server)
    assert shop_only.returncode == 0, shop_only.stderr
    assert "loaded   raw_shop:" in shop_only.stdout and "raw_drops" not in shop_only.stdout
    assert "published publication 1:" in shop_only.stdout and "analytics.daily_revenue" in shop_only.stdout

    drops_only = elt(project_dir, "run", "--select", "scores", api_url=prefect_server)
    assert drops_only.returncode == 0, drops_only.stderr
    assert "loaded   raw_drops: scores 2" in drops_only.stdout and "raw_shop" not in drops_only.stdout
    assert "analytics.scores" in drops_only.stdout


def test_version(project_dir):
    result = elt(project_dir, "--version")
    assert result.returncode == 0 and result.stdout.strip() == "elt 0.1.0"


@pytest.mark.slow
def test_build_publishes_from_the_raw_data_as_loaded(project_dir, prefect_server):
    assert elt(project_dir, "extract").returncode == 0
    raw = query(project_dir, "select count(*) from raw_shop.orders")
    # six hours later a run would load new orders; a build does not, so the freshness checks block it
    stale = elt(project_dir, "build", api_url=prefect_server, now=T2)
    assert stale.returncode == 1 and "freshness on updated_at: FAILED" in stale.stdout + stale.stderr
    assert query(project_dir, "select count(*) from raw_shop.orders") == raw
    built = elt(project_dir, "build", api_url=prefect_server)
    assert built.returncode == 0, built.stderr
    assert "extract  skipped: elt build reads the raw data as loaded" in built.stdout
    assert "loaded   " not in built.stdout and "published publication 1" in built.stdout
    assert query(project_dir, "select count(*) from analytics.orders") == raw


@pytest.mark.slow
def test_plan_says_what_a_run_would_do_and_why_and_writes_nothing(project_dir, prefect_server):
    from tests.bad_input import warehouse_digest

    assert elt(project_dir, "run", api_url=prefect_server).returncode == 0
    steps = lambda result: {s["model"]: (s["action"], s["reason"]) for s in json.loads(result.stdout)["steps"]}  # noqa: E731
    quiet = elt(project_dir, "plan")
    assert quiet.returncode == 0, quiet.stderr
    assert "plan for dev, against publication 1; nothing was written" in quiet.stdout
    assert "would publish nothing new" in quiet.stdout and "(a run extracts shop first" in quiet.stdout

    model = project_dir / "transforms/models/staging/stg_customers.sql"
    model.write_text(model.read_text().replace("from raw_shop.customers", "from raw_shop.customers where true"))
    digest = warehouse_digest(project_dir / "warehouse" / "shop.duckdb")
    changed = elt(project_dir, "plan", "--json")
    assert steps(changed)["stg_customers"] == ("build", "its SQL or config changed")
    assert steps(changed)["customers"] == ("build", "upstream stg_customers changed")
    assert steps(changed)["orders"] == ("unchanged", "the published version is current")
    assert json.loads(changed.stdout)["would_publish"] == ["analytics.customers"]
    assert warehouse_digest(project_dir / "warehouse" / "shop.duckdb") == digest

    assert elt(project_dir, "extract", now=T2).returncode == 0
    later = steps(elt(project_dir, "plan", "--json", "--select", "orders+", now=T2))
    assert later["stg_orders"] == ("build", "new loads in raw_shop.orders")
    assert later["orders"] == ("add rows", "new rows in raw_shop.orders: batch 2 on top of batch 1")
    assert later["daily_revenue"] == ("build", "upstream orders changed")
    assert later["customers"] == ("build", "upstream orders, stg_customers changed")  # customers reads orders
    typo = elt(project_dir, "plan", "--select", "dayly_revenue")
    assert typo.returncode == 1 and "did you mean daily_revenue?" in typo.stderr
