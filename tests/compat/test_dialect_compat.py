"""Dialect compatibility: every corpus query gives the same result on DuckDB and, transpiled, on Postgres.

Each file in corpus/ is one DuckDB-dialect query whose first line states what must happen:
  -- expect: same                       same column names and rows on both engines
  -- expect: compile_error <substring>  compile_model(..., "postgres") raises CompileError containing it,
                                        and sqlglot's own translation really fails on Postgres (the
                                        refusal is needed)
  -- expect: differs <why>              a known gap: it compiles, yet Postgres fails or answers differently.
                                        These depend on a column's type, which compile time cannot see;
                                        when one starts to pass, make it `same`.

Rows are compared as multisets unless the query has a top-level ORDER BY. Values are normalised only
where the drivers differ in representation, not in meaning (see `normalise`).
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
import sqlglot

from elt.errors import CompileError
from tests import postgres
from tests.compat import data
from transforms.compile import compile_model
from transforms.models import Model, parse_model
from transforms.portability import FUNCTIONS, POSTGRES_KEYWORD_FUNCTIONS

CORPUS = Path(__file__).parent / "corpus"
CASES = sorted(CORPUS.glob("*.sql"))
DIGITS = 6  # floats and decimals are compared after rounding: engines sum and divide in different orders


def expectation(path: Path) -> tuple[str, str]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    prefix = "-- expect: "
    assert first.startswith(prefix), f"{path.name}: first line must be '-- expect: same|compile_error|differs ...'"
    kind, _, argument = first[len(prefix):].strip().partition(" ")
    assert kind in ("same", "compile_error", "differs"), f"{path.name}: unknown expectation {kind!r}"
    assert (kind != "same") == bool(argument), f"{path.name}: {kind} takes a substring or a reason, same none"
    return kind, argument


def normalise(value, json_text: bool = False):
    """A driver-neutral form of one value.

    - Decimal and float -> float rounded to DIGITS (NUMERIC vs DOUBLE results, summation order).
    - aware datetime -> the same instant in UTC (DuckDB and psycopg attach different tzinfo objects).
    - list/tuple -> tuple (DuckDB LIST and Postgres ARRAY both arrive as lists; keeps rows hashable).
    - DuckDB hands JSON values over as text, psycopg parses json/jsonb: `json_text` parses the text.
    Dates stay dates and naive timestamps stay naive: a DATE vs TIMESTAMP result is a real difference.
    """
    if json_text and isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (Decimal, float)):
        number = float(value)
        return number if math.isnan(number) or math.isinf(number) else round(number, DIGITS) + 0.0  # no -0.0
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(timezone.utc)
    if isinstance(value, (list, tuple)):
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items()}
    return value


def sort_key(row: tuple) -> tuple:
    """Orders rows of mixed types deterministically: NULL first, numbers by value, the rest by repr."""
    return tuple((0, 0) if v is None else (1, v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else (2, repr(v)) for v in row)


def result(columns: list[str], rows: list[tuple], json_columns: set[int], ordered: bool):
    rows = [tuple(normalise(v, i in json_columns) for i, v in enumerate(row)) for row in rows]
    return columns, rows if ordered else sorted(rows, key=sort_key)


def run_duckdb(con: duckdb.DuckDBPyConnection, sql: str, ordered: bool):
    cursor = con.execute(sql)
    description = cursor.description
    json_columns = {i for i, d in enumerate(description) if str(d[1]) == "JSON"}
    return result([d[0] for d in description], cursor.fetchall(), json_columns, ordered)


def run_postgres(con, sql: str, ordered: bool):
    """Rows of `sql` on Postgres; a failing query is rolled back and re-raised."""
    with con.cursor() as cursor:
        try:
            cursor.execute(sql)
            return result([d.name for d in cursor.description], cursor.fetchall(), set(), ordered)
        finally:
            con.rollback()  # a failed query must not poison the next one


def corpus_model(path: Path) -> Model:
    """The corpus file as a model. Model names cannot start with a digit (they become relations), so
    `NN_name.sql` is parsed as model `qNN_name`."""
    return parse_model(path.with_name("q" + path.name), CORPUS, text=path.read_text(encoding="utf-8"))


def has_top_level_order(model: Model) -> bool:
    return bool(model.ast.args.get("order"))


@pytest.fixture(scope="module")
def duck():
    con = duckdb.connect()
    data.load_duckdb(con)
    yield con
    con.close()


@pytest.fixture(scope="module")
def pg():
    import psycopg

    postgres.require()
    with postgres.scratch_database("elt_test_compat") as database:
        with psycopg.connect(postgres.dsn(database)) as con:
            data.load_postgres(con)
            yield con


def test_corpus_is_large_enough():
    assert len(CASES) >= 40
    assert len({p.name[:2] for p in CASES}) == len(CASES), "corpus files need distinct NN_ prefixes"


def same_on_postgres(con, sql: str, expected, ordered: bool) -> tuple[bool, str]:
    """Whether Postgres answers `sql` like DuckDB did, and what it said otherwise."""
    import psycopg

    try:
        actual = run_postgres(con, sql, ordered)
    except psycopg.Error as err:
        return False, f"Postgres error: {str(err).splitlines()[0]}"
    if actual[0] != expected[0]:
        return False, f"columns {actual[0]} vs DuckDB {expected[0]}"
    if actual[1] != expected[1]:
        if len(actual[1]) != len(expected[1]):
            return False, f"{len(actual[1])} rows vs DuckDB {len(expected[1])}"
        wrong = next((a, e) for a, e in zip(actual[1], expected[1], strict=True) if a != e)
        return False, f"rows differ, first: {wrong[0]} vs DuckDB {wrong[1]}"
    return True, ""


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_corpus_query(path: Path, duck, request):
    kind, argument = expectation(path)
    model = corpus_model(path)
    ordered = has_top_level_order(model)
    expected = run_duckdb(duck, model.text, ordered)  # every corpus query is valid DuckDB, whatever else
    if kind == "compile_error":
        with pytest.raises(CompileError) as err:
            compile_model(model, "postgres")
        assert argument in str(err.value)
        assert f"model {model.name}:" in str(err.value)
        return
    sql = compile_model(model, "postgres")
    postgres.require()
    same, difference = same_on_postgres(request.getfixturevalue("pg"), sql, expected, ordered)
    if kind == "differs":
        assert not same, f"this known gap is closed ({argument}): change the expectation to same"
        return
    assert same, f"{difference}\npostgres SQL: {sql}"


REFUSED = [p for p in CASES if expectation(p)[0] == "compile_error"]


@pytest.mark.parametrize("path", REFUSED, ids=[p.name for p in REFUSED])
def test_refusal_is_needed(path: Path, duck, request):
    """sqlglot's own translation of each refused query fails or answers differently on Postgres."""
    postgres.require()
    model = corpus_model(path)
    ordered = has_top_level_order(model)
    expected = run_duckdb(duck, model.text, ordered)
    raw = sqlglot.transpile(model.text, read="duckdb", write="postgres")[0]
    same, _ = same_on_postgres(request.getfixturevalue("pg"), raw, expected, ordered)
    assert not same, f"sqlglot's translation works on Postgres, so the refusal is not needed: {raw}"


def test_trusted_function_names_exist_in_postgres(pg):
    """Every name the toolkit lets sqlglot print unmapped is a function of the live Postgres catalog."""
    with pg.cursor() as cursor:
        cursor.execute("select distinct upper(proname) from pg_proc where pronamespace = 'pg_catalog'::regnamespace")
        catalog = {name for (name,) in cursor.fetchall()}
    pg.rollback()
    missing = FUNCTIONS["postgres"] - POSTGRES_KEYWORD_FUNCTIONS - catalog
    assert not missing, f"not functions of this Postgres: {sorted(missing)}"
