"""The docs site: a static site of a project's models, columns and their lineage, checks and sources.

It sits above the stage packages (it reads what each of them knows) and below the CLI and the flow; it never
imports Prefect. Pages work from file:// and make no network request: no CDN, no fonts, no fetch().
"""

from pathlib import Path

DEFAULT_OUT = Path(".elt") / "docs"  # relative to the project: the toolkit's own folder, ignored by git
