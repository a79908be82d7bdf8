"""The benchmarks keep working (timings are the benchmarks' business, not the tests')."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_lint_compile_bench_runs_on_a_small_project():
    result = subprocess.run([sys.executable, "bench/lint_compile.py", "--models", "60", "--no-breakdown", "--pairs",
                             "1"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "lint violations on the generated project: 0" in result.stdout
    assert "unchanged: elt lint after a clean lint" in result.stdout


def test_file_extraction_bench_runs_on_small_files(tmp_path):
    result = subprocess.run([sys.executable, "bench/extract_files.py", "--rows", "20000", "--pairs", "1",
                             "--cache-dir", str(tmp_path / "files")], cwd=REPO, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ratio toolkit / DuckDB read_parquet" in result.stdout and "row counts: all 20,000" in result.stdout


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_sql_extraction_bench_runs_on_a_small_table(target):
    from tests import postgres

    postgres.require()
    result = subprocess.run([sys.executable, "bench/extract_sql.py", "--rows", "20000", "--pairs", "1", "--target",
                             target, "--pg-url", postgres.PG_ADMIN.rsplit("/", 1)[0]], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "row counts: all 20,000" in result.stdout
    assert ("speed-up as shipped / before" if target == "postgres" else "ratio toolkit / connectorx") in result.stdout


@pytest.mark.slow  # a Prefect server and three runs
def test_orchestration_bench_runs_on_a_small_project():
    result = subprocess.run([sys.executable, "bench/orchestration.py", "--models", "20", "--pairs", "1",
                             "--skip-demo"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ratio no-op flow / direct stage calls (20 models)" in result.stdout


@pytest.mark.slow
def test_threads_bench_runs_on_a_few_models():
    from tests import postgres

    postgres.require()
    result = subprocess.run([sys.executable, "bench/threads.py", "--models", "6", "--rows", "2000", "--contracts", "2",
                             "--pairs", "1", "--pg-url", postgres.PG_ADMIN.rsplit("/", 1)[0]], cwd=REPO,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ratio build+verify stage, threads 4 / threads 1" in result.stdout


def test_gate_bench_runs_on_a_small_model():
    result = subprocess.run([sys.executable, "bench/gate.py", "--rows", "20000", "--pairs", "1"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "8 checks, 3 warned, 30 sample rows kept" in result.stdout and "ratio gate stage" in result.stdout


def test_docs_site_bench_runs_on_a_small_project():
    result = subprocess.run([sys.executable, "bench/docs_build.py", "--models", "40", "--runs", "1"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "project: 40 models" in result.stdout and "elt docs, whole process, 1 runs: min" in result.stdout
    assert "pages: 41; largest page: " in result.stdout
