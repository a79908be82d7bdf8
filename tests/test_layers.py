"""Each stage package imports only its own external library (ruff's banned-api rule in pyproject.toml)."""
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_ruff_clean_including_layer_rules():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_core_imports_no_layer_above_it():
    """elt/ is what every layer imports; an import back up into a layer would make a circle."""
    import ast

    above = {"sources", "transforms", "checks", "flows", "elt_cli", "docs_site"}
    for path in sorted((REPO / "elt").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in above, f"{path.relative_to(REPO)} imports {name}"
