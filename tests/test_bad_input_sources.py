"""Bad answers from sources and bad connection settings through the real `elt extract`: a REST API answering
HTML, cut-off JSON or no rows; a SQL database, schema, table or query that is not there; DSNs a warehouse or
source cannot use. Each is one error line naming the request path or key and what to do, exit 1, the
warehouse unchanged and no secret shown; once fixed, the next run loads what the failed one missed, once.
A new kind of bad input is one more entry in a table below.
"""
from __future__ import annotations

import hashlib
import shutil
from contextlib import ExitStack
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests import postgres
from tests.api_server import ApiServer, api_server, make_customers  # noqa: F401 (fixture)
from tests.bad_input import assert_clear_error, elt, warehouse_digest
from tests.helpers import source_database as scratch_source
from tests.helpers import source_project

TOKEN = "s3cret-token"
WAREHOUSE = "warehouse.duckdb"
REST = '''
[sources.crm]
kind = "rest_api"
base_url = "{url}v1/"
auth = {{ type = "bearer", token_env = "CRM_TOKEN" }}
max_attempts = 2
backoff_seconds = 0.05
timeout_seconds = 2

[sources.crm.resources.customers]
data_selector = "data"
paginator = {{ type = "cursor", cursor_path = "next_cursor", cursor_param = "cursor" }}
primary_key = "id"
incremental = {{ cursor = "updated_at", param = "updated_since", initial = "2025-12-01T00:00:00Z" }}
columns = {{ id = "bigint", name = "text", email = "text", updated_at = "timestamp" }}

[sources.crm.resources.orders]
paginator = {{ type = "header_link" }}
primary_key = "id"
'''
CUSTOMERS = "[sources.crm.resources.customers]"
Setup = Callable[[ApiServer], None]


def answer(path: str, status: int, content_type: str, body: bytes) -> Setup:
    return lambda api: api.fixed.update({path: (status, content_type, body)})


def fault(path: str, kind: str) -> Setup:
    return lambda api: api.faults.append((path, kind))


def down(path: str) -> Setup:
    return lambda api: api.down.add(path)


# name, (old, new) in elt.toml, server setup, CRM_TOKEN, texts the error line must contain
REST_CASES = [
    ("html_login_page", None,
     answer("/v1/customers", 200, "text/html; charset=utf-8", b"<html><title>Sign in</title><form>...</form></html>"),
     TOKEN, ("source crm: GET /v1/customers answered 200 with text/html, not JSON",
             "(first bytes: '<html><title>Sign in", f"check base_url in [sources.crm] and path in {CUSTOMERS}",
             "the cursor did not move")),
    ("truncated_json", None, fault("/v1/customers", "malformed_json"), TOKEN,
     ("GET /v1/customers answered 200 with JSON cut off after 10 bytes", "first bytes: '{\"data\": ['",
      "broken JSON")),
    ("empty_body", None, answer("/v1/customers", 200, "application/json", b""), TOKEN,
     ("GET /v1/customers answered 200 with application/json and an empty body, not JSON",)),
    ("invalid_json", None, answer("/v1/customers", 200, "application/json", b'{"data": [{"id": 1,}]}'), TOKEN,
     ("GET /v1/customers answered 200 with invalid JSON (", "at byte 18)", "broken JSON")),
    ("data_selector_matches_nothing", ('data_selector = "data"', 'data_selector = "rows"'), None, TOKEN,
     ("GET /v1/customers answered 200 with JSON that has no 'rows' (keys: data, next_cursor)",
      f"check data_selector in {CUSTOMERS}")),
    ("data_selector_selects_a_string", None, answer("/v1/customers", 200, "application/json", b'{"data": "none"}'),
     TOKEN, ("answered 200 with a JSON str at 'data', not a list of rows", f"check data_selector in {CUSTOMERS}")),
    ("json_scalar_without_data_selector", None, answer("/v1/orders", 200, "application/json", b"true"), TOKEN,
     ("GET /v1/orders answered 200 with a JSON bool, not an object or a list of rows",
      "check path and data_selector in [sources.crm.resources.orders]")),
    ("not_found_on_the_first_page", (CUSTOMERS, f'{CUSTOMERS}\npath = "custmers"'), None, TOKEN,
     ("source crm: GET /v1/custmers answered 404 Not Found", f"path in {CUSTOMERS}")),
    ("wrong_token", None, None, "not-the-token",
     ("answered 401 Unauthorized", "check the credentials in CRM_TOKEN (auth in [sources.crm])")),
    ("bad_request", None,
     answer("/v1/customers", 400, "application/json", b'{"error": "bad parameter: updated_since"}'), TOKEN,
     ("GET /v1/customers answered 400 Bad Request (first bytes: '{\"error\": \"bad parameter",
      f"check params and incremental in {CUSTOMERS}")),
    ("stays_down", None, down("/v1/customers"), TOKEN,
     ("GET /v1/customers answered 503 Service Unavailable after 2 attempts", "raise max_attempts in [sources.crm]")),
    ("unreachable", ("{url}v1/", "http://127.0.0.1:9/v1/"), None, TOKEN,
     ("GET /v1/", "could not reach 127.0.0.1:9 after 2 attempts", "check base_url in [sources.crm]")),
]


@pytest.fixture(scope="module")
def shared_api() -> Iterator[ApiServer]:
    with ApiServer() as server:
        yield server


@pytest.fixture
def api(shared_api: ApiServer) -> ApiServer:
    """The module's server with its original data and no injected answers."""
    shared_api.customers = make_customers(25)
    shared_api.fixed.clear()
    shared_api.faults.clear()
    shared_api.down.clear()
    return shared_api


@pytest.fixture(scope="module")
def rest_baseline(shared_api: ApiServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project after one good run, copied by each case (a CLI run costs seconds)."""
    project = source_project(tmp_path_factory.mktemp("rest") / "p", REST.format(url=shared_api.url))
    result = elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN})
    assert result.returncode == 0, result.stdout + result.stderr
    return project


@pytest.mark.parametrize("name, change, setup, token, texts", REST_CASES, ids=[case[0] for case in REST_CASES])
def test_a_bad_rest_answer_is_one_error_and_loses_nothing(
        tmp_path: Path, api: ApiServer, rest_baseline: Path, name: str, change: tuple[str, str] | None,
        setup: Setup | None, token: str, texts: tuple[str, ...]) -> None:
    project = shutil.copytree(rest_baseline, tmp_path / "p")
    api.customers.append(make_customers(26)[-1] | {"updated_at": "2026-03-01T00:00:00Z"})
    before = warehouse_digest(project / WAREHOUSE)
    if change:
        source_project(project, REST.replace(*change).format(url=api.url))
    if setup:
        setup(api)
    result = elt(project, "extract", "crm", env={"CRM_TOKEN": token})
    assert_clear_error(result, *texts)
    assert TOKEN not in result.stdout + result.stderr and token not in result.stdout + result.stderr
    assert warehouse_digest(project / WAREHOUSE) == before
    source_project(project, REST.format(url=api.url))  # fixed: the next run loads the row the failed one missed
    api.fixed.clear()
    api.down.clear()
    fixed = elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN})
    assert fixed.returncode == 0 and "'customers': 1" in fixed.stdout, fixed.stdout + fixed.stderr


SQL = '''
[sources.app]
kind = "sql_database"
dsn_env = "APP_DSN"
{schema}
[sources.app.resources.{resource}]
{table}primary_key = "id"
incremental = {{ cursor = "updated_at" }}
{query}'''
QUERY = '\n[sources.app.resources.big]\nquery = "{}"\nincremental = {{ cursor = "updated_at" }}\n'
CREATE = {"postgres": "create table orders (id bigint primary key, updated_at timestamptz not null)",
          "mariadb": "create table orders (id bigint primary key, updated_at datetime(6) not null)"}
ROW = "insert into orders values ({}, timestamp '2026-01-0{} 00:00:00')"
ORDERS = "[sources.app.resources.orders]"


def sql_toml(resource: str = "orders", table: str = "", schema: str = "", query: str = "") -> str:
    return SQL.format(resource=resource, table=f'table = "{table}"\n' if table else "",
                      schema=f'database_schema = "{schema}"' if schema else "",
                      query=QUERY.format(query) if query else "")


def source_database(engine: str):
    """A scratch database with orders (1 row)."""
    return scratch_source(engine, "elt_bad", CREATE[engine], ROW.format(1, 1))


def other_database(dsn: str) -> str:
    return dsn.rsplit("/", 1)[0] + "/elt_no_such_db"


def wrong_password(dsn: str) -> str:
    scheme, rest = dsn.split("://", 1)
    login, server = rest.split("@", 1)
    return f"{scheme}://{login.split(':')[0]}:wrong-pw-4417@{server}"


# name, engines, elt.toml, DSN from the good one, texts the error line must contain
SQL_CASES = [
    ("unknown_database", ("postgres", "mariadb"), sql_toml(), other_database,
     ("source app: database elt_no_such_db does not exist on 127.0.0.1:", "fix the database at the end of the DSN "
      "in APP_DSN; databases there: ")),
    ("table_named_by_the_resource_missing", ("postgres", "mariadb"), sql_toml(resource="ordrs"), None,
     ("source app: database elt_bad_", "has no table ordrs",
      'fix the resource name (or table = "...") in [sources.app.resources.ordrs]; tables there: orders')),
    ("table_key_missing", ("postgres", "mariadb"), sql_toml(table="order_lines"), None,
     ("has no table order_lines", f"fix table in {ORDERS}; tables there: orders")),
    ("schema_missing", ("postgres",), sql_toml(schema="sales"), None,
     ("source app: the database has no schema sales", "fix database_schema in [sources.app]; schemas there: public")),
    ("query_syntax_error", ("postgres", "mariadb"), sql_toml(query="select id, updated_at form orders"), None,
     ("source app: the query of [sources.app.resources.big] fails: ", "syntax", "fix query there")),
    ("query_table_missing", ("postgres", "mariadb"), sql_toml(query="select id, updated_at from order_lines"), None,
     ("the query of [sources.app.resources.big] fails: ", "order_lines")),
    ("wrong_password", ("mariadb",), sql_toml(), wrong_password,
     ("source app: cannot connect to 127.0.0.1:3306 as root: Access denied", "check the DSN in APP_DSN")),
    ("unknown_scheme", ("postgres",), sql_toml(), lambda dsn: "oracle://scott:wrong-pw-4417@db/orcl",
     ("source app: APP_DSN must be a postgresql:// or mysql:// URL (it starts with oracle://)",)),
]


@pytest.fixture(scope="module")
def sql_baseline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], tuple]]:
    """Per engine, made on first use: a scratch database, its runner and a project after one good run."""
    with ExitStack() as stack:
        made: dict[str, tuple[str, Callable[..., None], Path]] = {}

        def baseline(engine: str) -> tuple[str, Callable[..., None], Path]:
            if engine not in made:
                dsn, run = stack.enter_context(source_database(engine))
                project = source_project(tmp_path_factory.mktemp(engine) / "p", sql_toml())
                result = elt(project, "extract", "app", env={"APP_DSN": dsn})
                assert result.returncode == 0, result.stdout + result.stderr
                made[engine] = dsn, run, project
            return made[engine]
        yield baseline


@pytest.mark.parametrize("engine, name, toml, bad_dsn, texts",
                         [(engine, name, *rest) for name, engines, *rest in SQL_CASES for engine in engines],
                         ids=[f"{name}-{engine}" for name, engines, *_ in SQL_CASES for engine in engines])
def test_a_bad_sql_source_is_one_error_and_loses_nothing(
        tmp_path: Path, sql_baseline: Callable[[str], tuple], engine: str, name: str, toml: str,
        bad_dsn: Callable[[str], str] | None, texts: tuple[str, ...]) -> None:
    dsn, run, baseline = sql_baseline(engine)
    project = shutil.copytree(baseline, tmp_path / "p")
    run("delete from orders where id = 2", ROW.format(2, 2))  # new since the baseline's run
    before = warehouse_digest(project / WAREHOUSE)
    source_project(project, toml)
    result = elt(project, "extract", "app", env={"APP_DSN": bad_dsn(dsn) if bad_dsn else dsn})
    assert_clear_error(result, *texts)
    assert "wrong-pw-4417" not in result.stdout + result.stderr
    assert warehouse_digest(project / WAREHOUSE) == before
    source_project(project, sql_toml())
    fixed = elt(project, "extract", "app", env={"APP_DSN": dsn})
    assert fixed.returncode == 0 and "{'orders': 1}" in fixed.stdout, fixed.stdout + fixed.stderr


def test_a_postgres_source_dsn_without_password_loads(tmp_path: Path) -> None:
    """Trust, peer and ~/.pgpass logins need no password in the DSN."""
    postgres.require()
    import psycopg

    with postgres.scratch_database("elt_bad") as name:
        with psycopg.connect(postgres.dsn(name), autocommit=True) as con:
            con.execute(CREATE["postgres"])
            con.execute(ROW.format(1, 1))
        project = source_project(tmp_path / "p", sql_toml())
        result = elt(project, "extract", "app", env={"APP_DSN": without_password(postgres.dsn(name))})
        assert result.returncode == 0 and "{'orders': 1}" in result.stdout, result.stdout + result.stderr


def without_password(dsn: str) -> str:
    scheme, rest = dsn.split("://", 1)
    login, server = rest.split("@", 1)
    return f"{scheme}://{login.split(':')[0]}@{server}"


def pg_digest(dsn: str) -> dict[str, str]:
    """A digest per table of a Postgres warehouse (raw data and dlt's state): equal means nothing moved."""
    import psycopg

    with psycopg.connect(dsn) as con:
        names = con.execute("select table_schema, table_name from information_schema.tables where table_schema "
                            "not in ('pg_catalog', 'information_schema') order by 1, 2").fetchall()
        return {f"{schema}.{table}": hashlib.sha256(repr(sorted(
            con.execute(f'select * from "{schema}"."{table}"').fetchall(), key=repr)).encode()).hexdigest()
            for schema, table in names}


# name, the warehouse DSN from a good one, extra environment, texts the error line must contain
TARGET_CASES = [
    ("dsn_without_user", lambda dsn: without_password(dsn).replace("postgres@", ""), {"PGUSER": "postgres"},
     ("target dev: dlt's postgres destination needs the username in $WH_DSN",
      "export WH_DSN=postgresql://USER:PASSWORD@HOST:5432/DATABASE")),
    ("dsn_of_another_engine", lambda dsn: "mysql://root:wrong-pw-4417@127.0.0.1:3306/test", {},
     ("target dev: $WH_DSN is not a postgresql:// URL",)),
]


@pytest.fixture
def pg_warehouse() -> Iterator[str]:
    postgres.require()
    with postgres.scratch_database("elt_bad_wh") as name:
        yield postgres.dsn(name)


def test_a_postgres_warehouse_dsn_without_password_loads(tmp_path: Path, api_server: ApiServer,  # noqa: F811
                                                         pg_warehouse: str) -> None:
    project = source_project(tmp_path / "p", REST.format(url=api_server.url), warehouse_dsn_env="WH_DSN")
    result = elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN, "WH_DSN": without_password(pg_warehouse)})
    assert result.returncode == 0 and "'customers': 25" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("name, bad_dsn, extra_env, texts", TARGET_CASES, ids=[case[0] for case in TARGET_CASES])
def test_a_warehouse_dsn_dlt_cannot_use_names_the_target_and_variable(
        tmp_path: Path, api_server: ApiServer, pg_warehouse: str, name: str,  # noqa: F811
        bad_dsn: Callable[[str], str], extra_env: dict[str, str], texts: tuple[str, ...]) -> None:
    project = source_project(tmp_path / "p", REST.format(url=api_server.url), warehouse_dsn_env="WH_DSN")
    assert elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN, "WH_DSN": pg_warehouse}).returncode == 0
    api_server.customers.append(make_customers(26)[-1] | {"updated_at": "2026-03-01T00:00:00Z"})
    before = pg_digest(pg_warehouse)
    result = elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN, "WH_DSN": bad_dsn(pg_warehouse), **extra_env})
    assert_clear_error(result, *texts)
    output = result.stdout + result.stderr
    assert "wrong-pw-4417" not in output and postgres.TEST_PASSWORD not in output and "Provider" not in output
    assert pg_digest(pg_warehouse) == before
    fixed = elt(project, "extract", "crm", env={"CRM_TOKEN": TOKEN, "WH_DSN": pg_warehouse})
    assert fixed.returncode == 0 and "'customers': 1" in fixed.stdout, fixed.stdout + fixed.stderr
