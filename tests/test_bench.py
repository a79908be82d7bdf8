"""The benchmarks keep working (timings are the benchmarks' business, not the tests')."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_lint_compile_bench_runs_on_a_small_project():
    result = subprocess.run([sys.executable, "bench/lint_compile.py", "--models", "60", "--no-breakdown"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "lint violations on the generated project: 0" in result.stdout


def test_file_extraction_bench_runs_on_small_files(tmp_path):
    result = subprocess.run([sys.executable, "bench/extract_files.py", "--rows", "20000", "--cache-dir",
                             str(tmp_path / "files")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "ratio" in result.stdout and "row counts: all 20,000" in result.stdout
