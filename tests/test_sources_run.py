"""`elt run` with one source of each kind declared next to the demo shop: REST (loopback server), SQL
(Postgres) and files; incremental on the second run, rejected rows counted in the summary."""
from __future__ import annotations

import pytest

from tests import postgres
from tests.api_server import ApiServer, api_server  # noqa: F401 (fixture)
from tests.helpers import query
from tests.test_cli import elt

SOURCES = '''
[sources.crm]
kind = "rest_api"
base_url = "{url}"
auth = {{ type = "bearer", token_env = "CRM_TOKEN" }}

[sources.crm.resources.customers]
data_selector = "data"
paginator = {{ type = "cursor", cursor_path = "next_cursor", cursor_param = "cursor" }}
primary_key = "id"
incremental = {{ cursor = "updated_at", param = "updated_since" }}
columns = {{ id = "bigint", name = "text", updated_at = "timestamp" }}

[sources.app]
kind = "sql_database"
dsn_env = "APP_DSN"

[sources.app.resources.accounts]
primary_key = "id"
incremental = {{ cursor = "updated_at" }}

[sources.drops]
kind = "filesystem"
bucket_url = "inbox"

[sources.drops.resources.scores]
glob = "*.csv"
columns = {{ id = "bigint", score = "double" }}
'''


@pytest.mark.slow
def test_run_with_a_source_of_each_kind(project_dir, prefect_server, api_server: ApiServer,  # noqa: F811
                                        monkeypatch) -> None:
    postgres.require()
    import psycopg

    with postgres.scratch_database("elt_app") as name, psycopg.connect(postgres.dsn(name), autocommit=True) as con:
        con.execute("create table accounts (id bigint primary key, plan text, updated_at timestamptz not null)")
        con.execute("insert into accounts select g, 'basic', now() - g * interval '1 hour' "
                    "from generate_series(1, 50) g")
        monkeypatch.setenv("APP_DSN", postgres.dsn(name))
        monkeypatch.setenv("CRM_TOKEN", "s3cret-token")
        with (project_dir / "elt.toml").open("a") as config:
            config.write(SOURCES.format(url=api_server.url))
        (project_dir / "inbox").mkdir()
        (project_dir / "inbox" / "a.csv").write_text("id,score\n1,2.5\n2,oops\n")
        api_server.customers.append({"id": "x", "name": "bad", "updated_at": "2026-01-05T00:00:00Z"})

        first = elt(project_dir, "run", api_url=prefect_server)
        assert first.returncode == 0, first.stderr
        assert "loaded   raw_crm: customers 25; 1 rejected into raw_crm._dead_letters" in first.stdout
        assert "loaded   raw_app: accounts 50" in first.stdout
        assert "loaded   raw_drops: scores 1; 1 rejected into raw_drops._dead_letters" in first.stdout
        assert "published publication 1" in first.stdout

        con.execute("update accounts set plan = 'pro', updated_at = now() where id = 3")
        second = elt(project_dir, "run", api_url=prefect_server)
        assert second.returncode == 0, second.stderr
        for line in ("raw_crm: nothing new", "raw_app: accounts 1", "raw_drops: nothing new"):
            assert f"loaded   {line}" in second.stdout
        assert query(project_dir, "select plan from raw_app.accounts where id = 3") == [("pro",)]


@pytest.mark.slow
def test_too_many_dead_letters_fail_the_run_once_and_publish_nothing(project_dir, prefect_server) -> None:
    with (project_dir / "elt.toml").open("a") as config:
        config.write('\n[sources.drops]\nkind = "filesystem"\nbucket_url = "inbox"\nmax_dead_letters = 0\n'
                     '[sources.drops.resources.scores]\nglob = "*.csv"\n'
                     'columns = { id = "bigint", score = "double" }\n')
    (project_dir / "inbox").mkdir()
    (project_dir / "inbox" / "a.csv").write_text("id,score\n1,2.5\n2,oops\n")
    run = elt(project_dir, "run", api_url=prefect_server)
    assert run.returncode == 1
    assert "source drops: 1 rows went to dead letters (max_dead_letters = 0)" in run.stderr
    assert run.stderr.count("1 row(s) rejected into raw_drops._dead_letters") == 1  # extracted once:
    assert "Retry 1/" not in run.stderr  # retrying would find nothing new and pass
    reasons = query(project_dir, "select reason from raw_drops._dead_letters")
    assert reasons == [("score: expected a number, got 'oops'",)]
    published = "select count(*) from information_schema.tables where table_schema = 'analytics'"
    assert query(project_dir, published) == [(0,)]
