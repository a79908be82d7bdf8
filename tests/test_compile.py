"""Transpilation golden files for the demo models, and refusal of constructs a target cannot express.

Regenerate goldens after an intended change: UPDATE_GOLDEN=1 pytest tests/test_compile.py (then review the diff).
"""
import os
from pathlib import Path

import pytest

from elt.errors import CompileError
from tests.conftest import REPO
from tests.test_models import model
from transforms.compile import compile_model
from transforms.models import discover, parse_model

GOLDEN = Path(__file__).parent / "compile" / "golden"
MODELS_DIR = REPO / "transforms" / "models"
CASES = [(p, d) for p in discover(MODELS_DIR) for d in ("postgres", "snowflake", "bigquery", "databricks")]


@pytest.mark.parametrize("path, dialect", CASES, ids=[f"{p.stem}-{d}" for p, d in CASES])
def test_demo_models_match_golden(path, dialect):
    sql = compile_model(parse_model(path, MODELS_DIR), dialect, pretty=True) + "\n"
    golden = GOLDEN / f"{path.stem}.{dialect}.sql"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(sql)
    assert golden.exists(), f"missing {golden}: run with UPDATE_GOLDEN=1 and review it"
    assert sql == golden.read_text()


@pytest.mark.parametrize("sql, dialect, construct", [
    ("select my_udf(amount) as x from raw_shop.orders", "postgres", "function my_udf() is not known"),
    ("select list_aggr([1, 2], 'sum') as x", "snowflake", "function list_aggr() is not known"),
    ("select 1 as a union by name select 2 as a", "postgres", "UNION BY NAME has no postgres equivalent"),
    ("select * exclude (amount) from raw_shop.orders", "postgres", "SELECT * EXCLUDE/REPLACE has no postgres"),
    ("select try_cast(amount as int) as x from raw_shop.orders", "postgres", "TRY_CAST has no postgres"),
    ("select * from raw_shop.orders qualify row_number() over (order by amount) = 1", "postgres",
     "QUALIFY with SELECT * has no postgres"),
    # printed by name for want of a mapping, and Postgres has no such function: named as the author wrote it
    ("select dayofweek(created_at) as x from raw_shop.orders", "postgres",
     "function dayofweek() has no postgres equivalent (the transpiler would emit DAY_OF_WEEK()"),
    # mapped by sqlglot to a name Postgres lacks
    ("select list_sort(list(amount)) as x from raw_shop.orders", "postgres",
     "function list_sort() has no postgres equivalent (the transpiler would emit ARRAY_SORT()"),
])
def test_unportable_constructs_are_compile_errors(tmp_path, sql, dialect, construct):
    m = model(tmp_path, "staging/unportable.sql", "-- materialized: view\n" + sql)
    with pytest.raises(CompileError) as err:
        compile_model(m, dialect)
    message = str(err.value)
    assert "model unportable:" in message and construct in message
    assert message.startswith(f"{m.path}:2:"), message


@pytest.mark.parametrize("sql, dialect, fragment", [
    ("select status, count(*) as n from raw_shop.orders group by all", "postgres", "GROUP BY 1"),
    ("select count(*) as n, sum(amount) as s from raw_shop.orders group by all", "postgres", "FROM raw_shop.orders"),
    ("select status, count(*) as n from raw_shop.orders group by all", "snowflake", "GROUP BY ALL"),
    ("select payload->>'$.a.b' as x from raw_shop.events", "postgres", "(payload #>> '{a,b}')"),
    ("select payload->'$.\"x,y\"[2]' as x from raw_shop.events", "postgres", """(payload #> '{"x,y",2}')"""),
    ("select make_date(2024, 1, 2) as d", "postgres", "MAKE_DATE(2024, 1, 2)"),
    ("select list(amount)[1] as a from raw_shop.orders", "postgres", "(ARRAY_AGG(amount))[1]"),
])
def test_postgres_rewrites(tmp_path, sql, dialect, fragment):
    sql = compile_model(model(tmp_path, "staging/r.sql", sql), dialect)
    assert fragment in sql and (dialect != "postgres" or "GROUP BY ALL" not in sql), sql


def test_same_dialect_keeps_duckdb_constructs(tmp_path):
    m = model(tmp_path, "staging/d.sql", "select * exclude (amount) from raw_shop.orders")
    assert "EXCLUDE (amount)" in compile_model(m, "duckdb")


def test_unknown_dialect(tmp_path):
    with pytest.raises(CompileError, match="unknown dialect 'oracle'"):
        compile_model(model(tmp_path, "staging/d.sql", "select 1 as x"), "oracle")
