"""Assert helpers over a real warehouse (the project's default target: a DuckDB file or Postgres)."""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from elt import warehouse
from elt.config import load_project


def warehouse_path(project_dir: Path) -> Path:
    return load_project(project_dir).target().path


def query(project_dir: Path, sql: str, params: list | None = None) -> list[tuple]:
    wh = warehouse.connect(load_project(project_dir).target(), read_only=True)
    try:
        return [tuple(row) for row in wh.execute(sql, params).fetchall()]
    finally:
        wh.close()


def row_count(project_dir: Path, relation: str) -> int:
    return query(project_dir, f"select count(*) from {relation}")[0][0]


def published(project_dir: Path) -> dict[str, str]:
    """Model -> relation of the publication in effect."""
    rows = query(project_dir, "select model, relation from _elt.publication_models where published "
                              "and publication_id = (select max(id) from _elt.publications) order by model")
    return dict(rows)


def answers(project_dir: Path, schema: str = "analytics") -> dict[str, str]:
    """A digest of everything each published view returns: equal digests mean identical answers."""
    names = [r[0] for r in query(project_dir, "select table_name from information_schema.tables "
                                              "where table_schema = ? order by 1", [schema])]
    digests = {}
    for name in names:
        rows = sorted(query(project_dir, f"select * from {schema}.{name}"), key=repr)
        digests[name] = hashlib.sha256(repr(rows).encode()).hexdigest()
    return digests


def source_project(root: Path, sources_toml: str, warehouse_dsn_env: str | None = None) -> Path:
    """A minimal project: a DuckDB target (or Postgres from `warehouse_dsn_env`), the given sources, no models."""
    root.mkdir(parents=True, exist_ok=True)
    target = (f'type = "postgres"\ndsn_env = "{warehouse_dsn_env}"' if warehouse_dsn_env
              else 'type = "duckdb"\npath = "warehouse.duckdb"')
    (root / "elt.toml").write_text(f'[project]\nname = "src"\n\n[targets.dev]\n{target}\n\n{sources_toml}\n')
    (root / "transforms" / "models").mkdir(parents=True, exist_ok=True)
    (root / "checks" / "contracts").mkdir(parents=True, exist_ok=True)
    return root


def extract(project_dir: Path, source: str):
    """Load one source into the project's default target, as `elt extract SOURCE` does."""
    from sources import runner

    project = load_project(project_dir)
    return runner.load(project, project.sources[source], project.target(), run_id="test-run")


@contextmanager
def source_database(engine: str, prefix: str, *setup: str) -> Iterator[tuple[str, Callable[..., list]]]:
    """A scratch Postgres or MariaDB database (named `prefix`_...) set up with `setup`; yields its DSN and a
    function running SQL in it (returning the last statement's rows)."""
    from tests import mysql, postgres

    if engine == "postgres":
        postgres.require()
        import psycopg

        with postgres.scratch_database(prefix) as name:
            def run(*statements: str) -> list:
                with psycopg.connect(postgres.dsn(name), autocommit=True) as con:
                    for statement in statements:
                        cursor = con.execute(statement)
                    return cursor.fetchall() if cursor.description else []
            run(*setup)
            yield postgres.dsn(name), run
    else:
        mysql.require()
        with mysql.scratch_database(prefix) as name:
            def run(*statements: str) -> list:
                return mysql.execute(name, *statements)
            run(*setup)
            yield mysql.dsn(name), run
