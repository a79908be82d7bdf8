"""REST API sources against a real HTTP server on loopback: paginators, auth, incremental requests,
parent -> child resources, dead letters, retries of 429/5xx/timeouts, a source that stays down, drift."""
from __future__ import annotations

import json
import traceback
from pathlib import Path

import pytest

from elt.errors import ConfigError, DeadLettersExceeded, SchemaFrozenError, SourceError
from tests import postgres
from tests.api_server import ApiServer, api_server, make_customers  # noqa: F401 (fixture)
from tests.helpers import extract, query, source_project

TOKEN = "s3cret-token"


def crm_toml(url: str, extra: str = "", customers: str = "") -> str:
    return f'''
[sources.crm]
kind = "rest_api"
base_url = "{url}"
auth = {{ type = "bearer", token_env = "CRM_TOKEN" }}
max_attempts = 3
backoff_seconds = 0.05
timeout_seconds = 1
{extra}

[sources.crm.resources.customers]
data_selector = "data"
paginator = {{ type = "cursor", cursor_path = "next_cursor", cursor_param = "cursor" }}
primary_key = "id"
incremental = {{ cursor = "updated_at", param = "updated_since", initial = "2025-12-01T00:00:00Z" }}
columns = {{ id = "bigint", name = "text", email = "text", updated_at = "timestamp" }}
{customers}

[sources.crm.resources.orders]
paginator = {{ type = "header_link" }}
params = {{ per_page = 25 }}
primary_key = "id"
columns = {{ id = "bigint", customer_id = "bigint", amount = "double", updated_at = "timestamp" }}

[sources.crm.resources.products]
data_selector = "items"
paginator = {{ type = "offset", limit = 10, total_path = "total" }}
primary_key = "id"
write_disposition = "replace"

[sources.crm.resources.events]
data_selector = "results"
paginator = {{ type = "page_number", base_page = 1, page_param = "page", total_path = "total_pages" }}
write_disposition = "append"

[sources.crm.resources.customer_orders]
path = "customers/{{customer_id}}/orders"
parent = {{ resource = "customers", field = "id", param = "customer_id" }}
paginator = {{ type = "single_page" }}
primary_key = "id"
'''


@pytest.fixture
def crm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_server: ApiServer):  # noqa: F811
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    return source_project(tmp_path / "p", crm_toml(api_server.url))


def counts(project: Path, *tables: str) -> dict[str, int]:
    return {t: query(project, f"select count(*) from raw_crm.{t}")[0][0] for t in tables}


def test_every_paginator_and_child_resource_loads_all_rows(crm: Path, api_server: ApiServer) -> None:  # noqa: F811
    result = extract(crm, "crm")
    assert result.rows == {"customers": 25, "orders": 60, "products": 15, "events": 23, "customer_orders": 60}
    assert counts(crm, "customers", "orders", "products", "events", "customer_orders") == result.rows
    # children carry their parent's key, and the declared types are the table's types
    assert query(crm, "select count(distinct _customers_id) from raw_crm.customer_orders")[0][0] == 25
    types = dict(query(crm, "select column_name, data_type from information_schema.columns "
                            "where table_schema = 'raw_crm' and table_name = 'customers'"))
    assert types["id"] == "BIGINT" and types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert all(r["headers"].get("Authorization") == f"Bearer {TOKEN}" for r in api_server.requests)


def test_incremental_requests_only_what_changed(crm: Path, api_server: ApiServer) -> None:  # noqa: F811
    extract(crm, "crm")
    assert extract(crm, "crm").rows.get("customers", 0) == 0  # nothing new: boundary row not loaded twice
    assert api_server.requests_to("/customers")[-1]["query"]["updated_since"] == "2026-01-01T00:24:00Z"

    api_server.customers[3]["name"] = "renamed"
    api_server.customers[3]["updated_at"] = "2026-02-01T00:00:00Z"
    api_server.customers.append(make_customers(26)[-1] | {"updated_at": "2026-02-01T00:01:00Z"})
    result = extract(crm, "crm")
    assert result.rows["customers"] == 2 and result.cursors["customers"] == "2026-02-01T00:01:00.000000Z"
    assert counts(crm, "customers") == {"customers": 26}  # merged on the primary key
    assert query(crm, "select name from raw_crm.customers where id = 4") == [("renamed",)]


def test_malformed_rows_go_to_dead_letters_and_good_rows_load(crm: Path, api_server: ApiServer) -> None:  # noqa: F811
    api_server.customers += [
        {"id": "abc", "name": "x", "email": "x@example.com", "updated_at": "2026-01-02T00:00:00Z"},
        {"name": "no id", "updated_at": "2026-01-02T00:00:00Z"},
        {"id": 900, "name": "bad date", "updated_at": "not a date"},
    ]
    result = extract(crm, "crm")
    assert result.rows["customers"] == 25 and result.dead_letters == 3
    # the cursor ignores rejected rows ("not a date" would sort after every timestamp)
    assert result.cursors["customers"] == "2026-01-01T00:24:00.000000Z"
    letters = query(crm, "select source, resource, raw_row, reason, run_id from raw_crm._dead_letters order by reason")
    assert [r[:2] for r in letters] == [("crm", "customers")] * 3
    assert [r[3] for r in letters] == ["id: expected an integer, got 'abc'", "missing required key 'id'",
                                       "updated_at: expected an ISO timestamp, got 'not a date'"]
    assert json.loads(letters[0][2])["email"] == "x@example.com" and letters[0][4] == "test-run"


def test_rows_and_dead_letters_counted_right_on_a_postgres_warehouse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_server: ApiServer) -> None:  # noqa: F811
    postgres.require()
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    api_server.customers.append({"id": "x", "updated_at": "2026-01-02T00:00:00Z"})
    with postgres.scratch_database("elt_wh") as database:
        monkeypatch.setenv("WH_DSN", postgres.dsn(database))
        project = source_project(tmp_path / "p", crm_toml(api_server.url), warehouse_dsn_env="WH_DSN")
        result = extract(project, "crm")
        assert result.rows["customers"] == 25 and result.dead_letters == 1
        assert counts(project, "customers", "_dead_letters") == {"customers": 25, "_dead_letters": 1}


def test_too_many_dead_letters_fail_the_load_after_keeping_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                api_server: ApiServer) -> None:  # noqa: F811
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    project = source_project(tmp_path / "p", crm_toml(api_server.url, extra="max_dead_letters = 1"))
    api_server.customers += [{"id": "a", "updated_at": "2026-01-02T00:00:00Z"},
                             {"id": "b", "updated_at": "2026-01-02T00:00:00Z"}]
    with pytest.raises(DeadLettersExceeded, match=r"2 rows went to dead letters \(max_dead_letters = 1\)"):
        extract(project, "crm")
    assert counts(project, "customers", "_dead_letters") == {"customers": 25, "_dead_letters": 2}


def test_429_5xx_and_timeouts_are_retried(crm: Path, api_server: ApiServer) -> None:  # noqa: F811
    api_server.faults += [("/customers", "429", 1), ("/orders", "500"), ("/products", "503"),
                          ("/events", "timeout", 3)]
    result = extract(crm, "crm")
    assert result.rows["customers"] == 25 and result.rows["events"] == 23
    first, second = api_server.requests_to("/customers")[:2]
    assert first["status"] == 429 and second["time"] - first["time"] >= 1.0  # Retry-After honoured
    assert [r["status"] for r in api_server.requests_to("/orders")[:2]] == [500, 200]


def test_a_source_that_stays_down_fails_and_the_next_run_loads_what_was_missed(
        crm: Path, api_server: ApiServer) -> None:  # noqa: F811
    extract(crm, "crm")
    api_server.customers.append(make_customers(26)[-1] | {"updated_at": "2026-03-01T00:00:00Z"})
    api_server.down.add("/customers")
    with pytest.raises(SourceError, match="503") as failure:
        extract(crm, "crm")
    assert TOKEN not in str(failure.value)
    assert len([r for r in api_server.requests_to("/customers") if r["status"] == 503]) == 3
    api_server.down.clear()
    result = extract(crm, "crm")
    assert result.rows["customers"] == 1 and counts(crm, "customers") == {"customers": 26}


def test_an_api_key_in_the_query_never_reaches_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         api_server: ApiServer) -> None:  # noqa: F811
    monkeypatch.setenv("CRM_KEY", "k-9f8e7d")
    toml = crm_toml(api_server.url).replace('auth = { type = "bearer", token_env = "CRM_TOKEN" }',
                                            'auth = { type = "api_key", name = "sig", location = "query", '
                                            'key_env = "CRM_KEY" }')
    project = source_project(tmp_path / "p", toml)
    api_server.auth = ("api_key", "X-Other", "another-key")  # the server refuses ours
    with pytest.raises(ConfigError, match=r"GET /\w+ answered 401 Unauthorized") as failure:
        extract(project, "crm")
    assert "check the credentials in CRM_KEY" in str(failure.value)
    assert "k-9f8e7d" not in "".join(traceback.format_exception(failure.value))  # --debug shows the chain


def test_a_missing_secret_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_server: ApiServer) -> None:  # noqa: F811
    monkeypatch.delenv("CRM_TOKEN", raising=False)
    project = source_project(tmp_path / "p", crm_toml(api_server.url))
    with pytest.raises(ConfigError, match="the secret CRM_TOKEN is not set"):
        extract(project, "crm")


def test_new_columns_evolve_by_default_and_fail_a_frozen_resource(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, api_server: ApiServer) -> None:  # noqa: F811
    monkeypatch.setenv("CRM_TOKEN", TOKEN)
    evolving = source_project(tmp_path / "evolve", crm_toml(api_server.url))
    frozen = source_project(tmp_path / "frozen", crm_toml(api_server.url, customers='schema = "freeze"'))
    extract(evolving, "crm")
    extract(frozen, "crm")
    api_server.customers.append(make_customers(26)[-1] | {"updated_at": "2026-03-01T00:00:00Z", "tier": "gold"})
    extract(evolving, "crm")
    assert query(evolving, "select tier from raw_crm.customers where id = 26") == [("gold",)]
    frozen_message = r"the schema of customers is frozen, but the data has a new column tier \(str value 'gold'\)"
    with pytest.raises(SchemaFrozenError, match=frozen_message):
        extract(frozen, "crm")
    assert counts(frozen, "customers") == {"customers": 25}
