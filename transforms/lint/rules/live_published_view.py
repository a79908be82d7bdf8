"""L008: a published view that reads raw tables live, so consumers would see every load unverified.

Write-audit-publish holds only if what consumers read was verified: a table built and checked before
publication. A view over raw data (directly or through other views) answers with whatever was loaded last.
"""
from __future__ import annotations

from typing import Iterator

CODE = "L008"


def check(context) -> Iterator:
    from transforms.lint import Violation

    models = context.by_name
    for model in context.models:
        if not model.published or model.materialized != "view":
            continue
        path = _live_path(model.name, models, seen=set())
        if path:
            yield Violation(CODE, f"published view reads {' -> '.join(path[1:])} live, so consumers see every load "
                                  "before it is verified: make it `-- materialized: table`, or `-- published: false`",
                            model.location())


def _live_path(name: str, models: dict, seen: set[str]) -> list[str] | None:
    """[name, view, ..., raw table] through views only, or None."""
    model = models[name]
    seen.add(name)
    for ref in model.refs:
        if ref.schema:
            return [name, ref.key]
        upstream = models.get(ref.name)
        if upstream is not None and upstream.materialized == "view" and ref.name not in seen:
            rest = _live_path(ref.name, models, seen)
            if rest:
                return [name, *rest]
    return None
