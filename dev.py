#!/usr/bin/env python3
"""Set up and run the project with nothing but Python 3.11+.

    python3 dev.py demo   # create .venv from requirements.lock, run the demo pipeline end to end
    python3 dev.py test   # create .venv from requirements-test.lock, run the whole test suite

Installs are from the locks only (every transitive package pinned), so every machine gets the set
that was verified together. Re-running skips the install when the lock has not changed.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def _run(*cmd: str | Path, env: dict | None = None) -> None:
    result = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env)
    if result.returncode:
        sys.exit(result.returncode)


def ensure_venv(lock: str) -> None:
    """Create .venv and install `lock` into it, unless the same lock is installed already."""
    if sys.version_info < (3, 11):
        sys.exit(f"Python 3.11 or newer is required (this is {sys.version.split()[0]})")
    stamp = VENV / ".installed"
    inputs = (lock, "requirements.lock", "pyproject.toml", "dev.py")  # dev.py: how the install is done
    digest = hashlib.sha256(b"".join((ROOT / f).read_bytes() for f in inputs))
    wanted = f"{lock} {digest.hexdigest()}"
    if stamp.exists() and stamp.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating {VENV.relative_to(ROOT)} ...", flush=True)
        venv.create(VENV, with_pip=True)
    print(f"installing {lock} (first time takes a minute) ...", flush=True)
    pip = (BIN / "python", "-m", "pip", "--disable-pip-version-check", "-q")
    _run(*pip, "install", "--require-virtualenv", "-r", lock)
    # compat: the checkout on sys.path, so the toolkit's packages (checks, transforms, ...) win over a user
    # project's folders of the same names, which would otherwise import as namespace packages from the cwd.
    _run(*pip, "install", "--no-deps", "--no-build-isolation", "-e", ".", "--config-settings", "editable_mode=compat")
    stamp.write_text(wanted)


def main(argv: list[str]) -> None:
    what = argv[0] if argv else ""
    if what == "demo":
        ensure_venv("requirements.lock")
        _run(BIN / "elt", "run", *argv[1:])
    elif what == "test":
        ensure_venv("requirements-test.lock")
        _run(BIN / "python", "-m", "pytest", *argv[1:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
