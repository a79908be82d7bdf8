from pathlib import Path

import pytest

from elt.config import load_project
from elt.errors import ConfigError
from tests.conftest import REPO


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "elt.toml").write_text(text)
    return tmp_path


VALID = """
[project]
name = "p"
[targets.dev]
type = "duckdb"
path = "wh/p.duckdb"
[sources.shop]
kind = "demo_shop"
"""


def test_repository_project_loads():
    project = load_project(REPO)
    assert project.name == "shop_demo"
    assert project.target().path == REPO / "warehouse" / "shop.duckdb"
    assert project.sources["shop"].dataset == "raw_shop"


def test_defaults_and_relative_paths(tmp_path):
    project = load_project(write(tmp_path, VALID))
    assert project.default_target == "dev" and project.published_schema == "analytics"
    assert project.target("dev").path == tmp_path / "wh" / "p.duckdb"
    assert project.keep_publications == 10


def test_found_from_a_subdirectory(tmp_path):
    write(tmp_path, VALID)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    assert load_project(tmp_path / "deep" / "er").root == tmp_path


@pytest.mark.parametrize("text, key, fragment", [
    (VALID + "colour = 1\n", "sources.shop.colour", "unknown key"),
    (VALID.replace('type = "duckdb"', 'type = "duckdbx"'), "targets.dev.type", "valid values: duckdb, postgres"),
    (VALID.replace('name = "p"', 'name = "p; drop table x"'), "project.name", "not a valid identifier"),
    (VALID.replace('[targets.dev]', '[targets."my-target"]'), "targets.my-target", "not a valid identifier"),
    (VALID + "orders_per_hour = 0\n", "sources.shop.orders_per_hour", "between 1 and 100000"),
    (VALID + 'start = "yesterday"\n', "sources.shop.start", "not an ISO timestamp"),
    (VALID.replace('name = "p"', 'name = "p"\ndefault_target = "prod"'), "project.default_target", "not a declared"),
    (VALID.replace('name = "p"', 'name = 5'), "project.name", "expected str"),
    (VALID.replace('[sources.shop]\nkind = "demo_shop"', '[sources.shop]\nkind = "ftp"'), "sources.shop.kind",
     "valid values"),
])
def test_invalid_config_names_file_and_key(tmp_path, text, key, fragment):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, text))
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'elt.toml'}: {key}:"), message
    assert fragment in message


def test_toml_syntax_error_has_line(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, VALID + "[broken\n"))
    assert str(err.value).startswith(f"{tmp_path / 'elt.toml'}:9:8: invalid TOML: Expected ']'")


def test_a_byte_that_is_not_utf8_is_located(tmp_path):
    (tmp_path / "elt.toml").write_bytes(VALID.replace('name = "p"', 'name = "p"\n# caf\xe9').encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        load_project(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'elt.toml'}:4:6: byte 0xe9 is not UTF-8: the file is in another encoding "
                              "(Latin-1, Windows-1252?) — save it as UTF-8")


def test_a_byte_order_mark_is_not_part_of_the_file(tmp_path):
    (tmp_path / "elt.toml").write_bytes(b"\xef\xbb\xbf" + VALID.lstrip().encode())
    assert load_project(tmp_path).name == "p"


def test_an_empty_project_file_asks_for_a_target(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, "\n"))
    assert str(err.value).startswith(f"{tmp_path / 'elt.toml'}: targets: no target declared — add [targets.dev]")


def test_no_project_file(tmp_path):
    with pytest.raises(ConfigError, match="no elt.toml found"):
        load_project(tmp_path)


def test_unknown_target_lists_declared(tmp_path):
    project = load_project(write(tmp_path, VALID))
    with pytest.raises(ConfigError, match="use one of: dev"):
        project.target("prod")


def test_warehouse_targets_name_an_environment_variable(tmp_path, monkeypatch):
    text = VALID + '[targets.pg]\ntype = "postgres"\ndsn_env = "MY_PG_DSN"\n[targets.sf]\ntype = "snowflake"\n'
    project = load_project(write(tmp_path, text))
    pg, sf = project.target("pg"), project.target("sf")
    assert (pg.dialect, pg.runnable, sf.dialect, sf.runnable) == ("postgres", True, "snowflake", False)
    assert sf.dsn_env == "ELT_SF_DSN"
    monkeypatch.delenv("MY_PG_DSN", raising=False)
    with pytest.raises(ConfigError, match="environment variable MY_PG_DSN is not set — export MY_PG_DSN="):
        pg.dsn()
    monkeypatch.setenv("MY_PG_DSN", "postgresql://u:hunter2@db.example:6543/shop")
    assert pg.describe() == "postgres database shop on db.example:6543"


def test_a_dsn_in_the_file_is_refused(tmp_path):
    text = VALID + '[targets.pg]\ntype = "postgres"\ndsn_env = "postgresql://u:pw@h/db"\n'
    with pytest.raises(ConfigError, match="targets.pg.dsn_env: .* is not an environment variable name"):
        load_project(write(tmp_path, text))


@pytest.mark.parametrize("value", ["elt:hunter2@db:5432/x", "postgresql://elt:hunter2@db:port/x",
                                   "postgresql://elt:hunter2@db:5432"])
def test_a_malformed_dsn_is_refused_without_echoing_it(tmp_path, monkeypatch, value):
    project = load_project(write(tmp_path, VALID + '[targets.pg]\ntype = "postgres"\ndsn_env = "MY_PG_DSN"\n'))
    monkeypatch.setenv("MY_PG_DSN", value)
    with pytest.raises(ConfigError) as err:
        project.target("pg").dsn()
    assert "is not a postgresql:// URL" in str(err.value) and "hunter2" not in str(err.value)


BASE = VALID.replace('[sources.shop]\nkind = "demo_shop"\n', "")
REST = BASE + '''
[sources.crm]
kind = "rest_api"
base_url = "https://api.example.com/v1"
[sources.crm.resources.customers]
primary_key = "id"
columns = { id = "bigint", updated_at = "timestamp" }
'''
SQL = BASE + '''
[sources.app]
kind = "sql_database"
dsn_env = "APP_DSN"
[sources.app.resources.orders]
primary_key = "id"
'''
FILES = BASE + '''
[sources.drops]
kind = "filesystem"
bucket_url = "inbox"
[sources.drops.resources.scores]
glob = "*.csv"
'''


def crm_with(line: str) -> str:
    """REST with a line added to the source's own table."""
    return REST.replace("[sources.crm.resources", f"{line}\n[sources.crm.resources")


def test_source_kinds_and_their_defaults(tmp_path):
    for text in (REST, SQL, FILES):
        load_project(write(tmp_path, text))
    crm = load_project(write(tmp_path, REST)).sources["crm"]
    customers = crm.options["resources"]["customers"]
    assert customers.write_disposition == "merge" and customers.required == ("id",)
    assert crm.options["max_attempts"] == 5 and crm.options["base_url"] == "https://api.example.com/v1/"
    drops = load_project(write(tmp_path, FILES)).sources["drops"]
    assert drops.options["bucket_url"] == f"file://{tmp_path}/inbox"
    assert drops.options["resources"]["scores"].options == {"glob": "*.csv", "format": "csv"}
    assert load_project(write(tmp_path, SQL)).sources["app"].options["backend"] == "connectorx"


def test_freshness_slas_on_a_source_and_a_resource(tmp_path):
    from elt.source_config import Freshness

    text = FILES.replace('bucket_url = "inbox"', 'bucket_url = "inbox"\nfreshness_hours = 6') + \
        'freshness_hours = 0.5\nfreshness_block = true\n'
    drops = load_project(write(tmp_path, text)).sources["drops"]
    assert drops.freshness == Freshness(6.0) and drops.options["resources"]["scores"].freshness == Freshness(0.5, True)
    assert load_project(write(tmp_path, FILES)).sources["drops"].freshness is None


def test_declared_columns_are_known_to_lint_before_the_first_load(tmp_path):
    from sources.catalog import declared_tables

    child = REST + ('[sources.crm.resources.orders]\npath = "customers/{cid}/orders"\n'
                    'parent = { resource = "customers", field = "id", param = "cid" }\nprimary_key = "id"\n'
                    'columns = { id = "bigint", total = "double" }\n')
    tables = declared_tables(load_project(write(tmp_path, child)).sources["crm"])
    assert tables["orders"] == {"id": "BIGINT", "total": "DOUBLE", "_customers_id": "BIGINT", "_dlt_load_id": "VARCHAR"}
    assert tables["customers"]["updated_at"] == "TIMESTAMPTZ"


@pytest.mark.parametrize("text, key, fragment", [
    (REST + 'colour = "red"\n', "sources.crm.resources.customers.colour", "unknown key"),
    (crm_with('freshness_hours = "6h"'), "sources.crm.freshness_hours", "expected a number of hours above 0"),
    (REST + "freshness_block = true\n", "sources.crm.resources.customers.freshness_block",
     "freshness_block needs freshness_hours"),
    (REST.replace("https://api", "ftp://api"), "sources.crm.base_url", "not an http(s) URL"),
    (REST + 'paginator = { type = "magic" }\n', "sources.crm.resources.customers.paginator.type", "valid values"),
    (REST + 'incremental = { cursor = "changed" }\n', "sources.crm.resources.customers.incremental.cursor",
     "declare the type of 'changed' in columns"),
    (REST + 'parent = { resource = "nobody", field = "id", param = "p" }\n',
     "sources.crm.resources.customers.parent.resource", "not a resource of this source"),
    (REST.replace('"bigint"', '"integer"'), "sources.crm.resources.customers.columns.id", "valid values: bigint"),
    (REST.replace('primary_key = "id"\n', 'write_disposition = "merge"\n'),
     "sources.crm.resources.customers.write_disposition", "merge needs a primary_key"),
    (crm_with('auth = { type = "bearer", token_env = "my token" }'), "sources.crm.auth.token_env",
     "not an environment variable name"),
    (crm_with('auth = { type = "bearer", token = "abc" }'), "sources.crm.auth.token", "unknown key"),
    (crm_with("max_attempts = 0"), "sources.crm.max_attempts", "expected a positive number"),
    (SQL + 'columns = { id = "bigint" }\n', "sources.app.resources.orders.columns", "typed by the database"),
    (SQL + 'query = "select 1"\ntable = "orders"\n', "sources.app.resources.orders.query", "either table or query"),
    (SQL.replace('dsn_env = "APP_DSN"\n', ""), "sources.app.dsn_env", "missing required key"),
    (SQL.replace('[sources.app.resources.orders]\nprimary_key = "id"\n', ""), "sources.app.resources",
     "no resource declared"),
    (FILES + 'schema = "freeze"\n', "sources.drops.resources.scores.schema", "needs its columns declared"),
    (SQL.replace('primary_key = "id"', 'write_disposition = "scd2"'), "sources.app.resources.orders.write_disposition",
     "scd2 needs a primary_key"),
    (FILES.replace('"*.csv"', '"*.xlsx"'), "sources.drops.resources.scores.format", "cannot tell the format"),
    (FILES + 'incremental = { cursor = "x" }\n', "sources.drops.resources.scores.incremental",
     "incremental by modification time"),
    (FILES.replace('bucket_url = "inbox"\n', 'bucket_url = "inbox"\nmax_dead_letters = -1\n'),
     "sources.drops.max_dead_letters", "must be 0 or more"),
])
def test_invalid_source_config_names_the_key(tmp_path, text, key, fragment):
    with pytest.raises(ConfigError) as err:
        load_project(write(tmp_path, text))
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'elt.toml'}: {key}:"), message
    assert fragment in message
