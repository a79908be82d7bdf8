"""L006: two model files with the same name (a name is what other models and consumers refer to)."""
from __future__ import annotations

from typing import Iterator

CODE = "L006"


def check(context) -> Iterator:
    from transforms.lint import Violation

    seen: dict[str, object] = {}
    for model in sorted(context.models, key=lambda m: str(m.path)):
        if model.name in seen:
            yield Violation(CODE, f"duplicate model name {model.name} (also {seen[model.name]})", model.location())
        else:
            seen[model.name] = model.path
