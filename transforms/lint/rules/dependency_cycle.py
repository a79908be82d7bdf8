"""L007: models that read each other in a loop, reported with the cycle spelled out."""
from __future__ import annotations

from typing import Iterator

from transforms.graph import dependencies, find_cycle

CODE = "L007"


def check(context) -> Iterator:
    from transforms.lint import Violation

    models = context.by_name
    remaining = dependencies(models)
    while cycle := find_cycle(remaining):
        yield Violation(CODE, f"dependency cycle: {' -> '.join(cycle)}", models[cycle[0]].location())
        # Take the loop out and look again, so independent loops are all reported in one run.
        looped = set(cycle)
        remaining = {name: tuple(u for u in ups if u not in looped)
                     for name, ups in remaining.items() if name not in looped}
