"""Generated projects for the transform benchmarks (threads.py, orchestration.py): models, contracts, raw data.

Raw tables are written straight into the warehouse, shaped as dlt leaves them (a `_dlt_load_id` column in a
`raw_<source>` schema), so the projects declare no sources: a run extracts nothing and its cost is the
transform stage's.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lint_compile import RAW_TABLES, Generator  # noqa: E402

TYPES = {"id": "bigint", "num": "decimal(18, 2)", "int": "bigint", "ts": "timestamp", "text": "varchar"}
TEXTS = ("'paid'", "'cancelled'", "'gold'", "'card'", "'NL'", "'pending'")


def write_config(directory: Path, target_toml: str, threads: int | None = None) -> Path:
    """elt.toml with one target `dev` (`target_toml`: its type and location) and no sources."""
    directory.mkdir(parents=True, exist_ok=True)
    for folder in ("transforms/models", "checks/contracts"):
        (directory / folder).mkdir(parents=True, exist_ok=True)
    threads_line = f"threads = {threads}\n" if threads else ""
    (directory / "elt.toml").write_text(
        f'[project]\nname = "bench"\n\n[targets.dev]\n{target_toml}\n{threads_line}', encoding="utf-8")
    return directory


def duckdb_target(path: str = "wh.duckdb") -> str:
    return f'type = "duckdb"\npath = "{path}"'


def postgres_target(dsn_env: str) -> str:
    return f'type = "postgres"\ndsn_env = "{dsn_env}"'


def generated_project(directory: Path, models: int, seed: int, contracts_every: int = 10) -> dict[str, Any]:
    """bench/lint_compile.py's generated models under transforms/models, and a contract (row count, first
    column present) for every `contracts_every`-th mart; returns the project's figures."""
    generator = Generator(models, seed)
    files = generator.generate()
    contracts = 0
    for n, ((layer, name, sql), output) in enumerate(zip(files, generator.sources, strict=True)):
        path = directory / "transforms" / "models" / layer / f"{name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
        if layer == "marts" and n % contracts_every == 0:
            first = next(iter(output.columns))
            (directory / "checks" / "contracts" / f"{name}.yml").write_text(
                f"columns:\n  - name: {first}\nchecks:\n  - row_count:\n      threshold:\n"
                "        must_be_greater_than_or_equal: 0\n", encoding="utf-8")
            contracts += 1
    return {"models": len(files), "staging": sum(f[0] == "staging" for f in files), "edges": generator.edges,
            "max_depth": max(s.depth for s in generator.sources), "contracts": contracts}


def raw_shop_sql(rows: int, dialect: str) -> list[str]:
    """Statements creating the generator's raw tables (raw_shop.orders/customers/payments) with `rows` rows."""
    series = (f"range({rows}) as g(i)" if dialect == "duckdb"
              else f"generate_series(0, {rows - 1}) as g(i)")
    statements = ["drop schema if exists raw_shop cascade", "create schema raw_shop"]
    for table, columns in RAW_TABLES.items():
        values = []
        for n, (column, kind) in enumerate(columns.items()):
            if kind == "id":
                values.append(f"(i * {n + 7}) % {max(rows // 3, 1)} as {column}" if n else f"i as {column}")
            elif kind == "num":
                values.append(f"cast((i * 37 + {n}) % 1000 as decimal(18, 2)) / 10 as {column}")
            elif kind == "int":
                values.append(f"(i * {n + 3}) % 100 as {column}")
            elif kind == "ts":
                values.append(f"timestamp '2021-01-01' + (i * {n + 1}) * interval '1 hour' as {column}")
            else:
                values.append(f"(array[{', '.join(TEXTS)}])[1 + (i + {n}) % {len(TEXTS)}] as {column}")
        statements.append(f"create table {table} as select {', '.join(values)}, "
                          f"cast('1700000000.1' as varchar) as _dlt_load_id from {series}")
    return statements
