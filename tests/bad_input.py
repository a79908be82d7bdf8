"""The shape every answer to malformed input must have, through the real `elt` command.

One clear `error:` line naming the file and line/key (or URL) and what to do, exit 1, no traceback, and
nothing changed in the warehouse: the corpus tests (`tests/test_bad_input_*.py`) assert exactly this, so a
new kind of bad input is one more case, not a new test design.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb

ELT = Path(sys.executable).with_name("elt")


def elt(project_dir: Path, *args: str, env: dict[str, str] | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, in the project folder."""
    return subprocess.run([str(ELT), *args], cwd=project_dir, env={**os.environ, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


def assert_clear_error(result: subprocess.CompletedProcess, *expected: str) -> str:
    """Exit 1, no traceback anywhere, exactly one `error:` line, containing every `expected` text."""
    everything = result.stdout + result.stderr
    assert result.returncode == 1, f"exit {result.returncode}, expected 1:\n{everything}"
    assert "Traceback" not in everything, f"a traceback was printed:\n{everything}"
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, f"expected one error line, got {len(errors)}:\n{everything}"
    for text in expected:
        assert text in errors[0], f"{text!r} not in the error line:\n{errors[0]}"
    return errors[0]


def warehouse_digest(path: Path) -> dict[str, str]:
    """A digest per relation of a DuckDB warehouse (raw tables, dead letters, published views, dlt's own
    tables): equal digests before and after mean nothing was loaded, published or moved."""
    if not path.exists():
        return {}
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute("select table_schema, table_name from information_schema.tables "
                            "order by 1, 2").fetchall()
        digests = {}
        for schema, table in names:
            rows = sorted(con.execute(f'select * from "{schema}"."{table}"').fetchall(), key=repr)
            digests[f"{schema}.{table}"] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return digests
    finally:
        con.close()
