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
