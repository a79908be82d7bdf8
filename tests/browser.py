"""Headless Chromium (Debian's `chromium`) for what a person looks at: the page as rendered, after its scripts.

`.ci/run` installs it when missing and sets ELT_REQUIRE_BROWSER=1, so CI fails rather than skips without it;
a local run without it skips with the reason.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

NAMES = ("chromium", "chromium-browser", "google-chrome")


def binary() -> str | None:
    return next((found for found in map(shutil.which, NAMES) if found), None)


def require() -> str:
    found = binary()
    if found is None:
        if os.environ.get("ELT_REQUIRE_BROWSER"):
            pytest.fail("ELT_REQUIRE_BROWSER is set but no chromium is installed (apt-get install chromium)")
        pytest.skip("no headless browser here: apt-get install chromium (CI installs it)")
    return found


def rendered(url: str, screenshot: Path | None = None, wait_ms: int = 15000, flags: tuple[str, ...] = ()) -> str:
    """The page's DOM once its scripts ran for up to `wait_ms` of virtual time; a PNG of it if asked. `flags`:
    more Chromium switches (a proxy, say)."""
    command = [require(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", "--window-size=1400,1000", f"--virtual-time-budget={wait_ms}", *flags]
    if screenshot is not None:
        subprocess.run([*command, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=True)
    result = subprocess.run([*command, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=True)
    return result.stdout
