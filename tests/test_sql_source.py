"""SQL database sources on real Postgres and MariaDB: tables and queries, incremental merge and append,
SCD2 history, schema drift (evolve and freeze), clear errors for missing or malformed DSNs."""
from __future__ import annotations

from pathlib import Path

import pytest

from elt.errors import ConfigError, SchemaFrozenError
from tests.helpers import extract, query, source_project
from tests.helpers import source_database as scratch_source

TABLE = {
    "postgres": "create table orders (id bigint primary key, customer text, amount numeric(10,2), "
                "updated_at timestamptz not null)",
    "mariadb": "create table orders (id bigint primary key, customer varchar(40), amount decimal(10,2), "
               "updated_at datetime(6) not null)",
}
ROWS = {  # 300 orders, one a minute from 2026-01-01
    "postgres": "insert into orders select g, 'c' || (g % 7), g * 1.25, timestamptz '2026-01-01 00:00:00+00' "
                "+ g * interval '1 minute' from generate_series(1, 300) g",
    "mariadb": "insert into orders select seq, concat('c', seq % 7), seq * 1.25, timestamp '2026-01-01 00:00:00' "
               "+ interval seq minute from seq_1_to_300",
}
LATER = {"postgres": "timestamptz '2026-02-01 00:00:00+00'", "mariadb": "timestamp '2026-02-01 00:00:00'"}


def source_database(engine: str):
    """A scratch database with the orders table (300 rows)."""
    return scratch_source(engine, "elt_src", TABLE[engine], ROWS[engine])


def app_toml(orders: str = "", extra_resources: str = "") -> str:
    return f'''
[sources.app]
kind = "sql_database"
dsn_env = "APP_DSN"
chunk_size = 64

[sources.app.resources.orders]
primary_key = "id"
incremental = {{ cursor = "updated_at" }}
{orders}
{extra_resources}
'''


@pytest.fixture(params=["postgres", "mariadb"])
def engine(request) -> str:
    return request.param


def project_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dsn: str, toml: str, name: str = "p") -> Path:
    monkeypatch.setenv("APP_DSN", dsn)
    return source_project(tmp_path / name, toml)


def test_tables_and_queries_load_incrementally(engine: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    query_resource = '''
[sources.app.resources.big_orders]
query = "select id, amount, updated_at from orders where amount >= 300"
primary_key = "id"
incremental = { cursor = "updated_at" }
'''
    with source_database(engine) as (dsn, run):
        project = project_for(tmp_path, monkeypatch, dsn, app_toml(extra_resources=query_resource))
        first = extract(project, "app")
        assert first.rows == {"orders": 300, "big_orders": 61}
        assert query(project, "select sum(amount), count(distinct id) from raw_app.orders")[0] == (56437.5, 300)
        assert extract(project, "app").rows == {}  # nothing new: the boundary row is not loaded twice

        run(f"update orders set amount = 999, updated_at = {LATER[engine]} where id = 5",
            f"insert into orders values (301, 'new', 1, {LATER[engine]})")
        assert extract(project, "app").rows == {"orders": 2, "big_orders": 1}
        assert query(project, "select count(*), sum(amount) from raw_app.orders")[0] == (301, 56437.5 + 999 - 6.25 + 1)
        assert query(project, "select amount from raw_app.big_orders where id = 5")[0][0] == 999


def test_append_with_a_cursor_loads_each_row_once(engine: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with source_database(engine) as (dsn, run):
        project = project_for(tmp_path, monkeypatch, dsn, app_toml('write_disposition = "append"'))
        extract(project, "app")
        run(f"insert into orders values (301, 'new', 1, {LATER[engine]})")
        extract(project, "app")
        extract(project, "app")
        assert query(project, "select count(*), count(distinct id) from raw_app.orders")[0] == (301, 301)


def test_scd2_keeps_the_history_of_changed_rows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with source_database("postgres") as (dsn, run):
        project = project_for(tmp_path, monkeypatch, dsn, app_toml('write_disposition = "scd2"'))
        extract(project, "app")
        run(f"update orders set amount = 999, updated_at = {LATER['postgres']} where id = 5")
        extract(project, "app")
        history = query(project, "select amount, _dlt_valid_to is null from raw_app.orders where id = 5 "
                                 "order by _dlt_valid_from")
        assert history == [(6.25, False), (999, True)]


def test_new_source_columns_evolve_or_fail_a_frozen_table(engine: str, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    with source_database(engine) as (dsn, run):
        evolving = project_for(tmp_path, monkeypatch, dsn, app_toml(), "evolve")
        frozen = project_for(tmp_path, monkeypatch, dsn, app_toml('schema = "freeze"'), "frozen")
        extract(evolving, "app")
        extract(frozen, "app")
        run("alter table orders add column channel varchar(10)",
            f"insert into orders values (301, 'new', 1, {LATER[engine]}, 'web')")
        extract(evolving, "app")
        assert query(evolving, "select channel from raw_app.orders where id = 301") == [("web",)]
        message = r"the schema of orders is frozen.*: new column channel \(type string\)"
        with pytest.raises(SchemaFrozenError, match=message):
            extract(frozen, "app")
        assert query(frozen, "select count(*) from raw_app.orders") == [(300,)]


def test_missing_and_malformed_dsns_are_named_without_echo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    project = source_project(tmp_path / "p", app_toml())
    monkeypatch.delenv("APP_DSN", raising=False)
    with pytest.raises(ConfigError, match="the secret APP_DSN is not set"):
        extract(project, "app")
    monkeypatch.setenv("APP_DSN", "oracle://scott:tiger-pw@db/orcl")
    with pytest.raises(ConfigError, match="APP_DSN must be a postgresql:// or mysql:// URL") as failure:
        extract(project, "app")
    assert "tiger-pw" not in str(failure.value) + str(failure.value.hint)
