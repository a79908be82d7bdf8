"""L007: models that read each other in a loop, reported with the cycle spelled out."""
from __future__ import annotations

from typing import Iterator

from transforms.graph import dependencies, find_cycle

CODE = "L007"


def check(context) -> Iterator:
    from transforms.lint import Violation

    models = context.by_name
    cycle = find_cycle(dependencies(models))
    if cycle:
        yield Violation(CODE, f"dependency cycle: {' -> '.join(cycle)}", models[cycle[0]].location())
