"""The dependency graph between models, inferred from the tables each query reads."""
from __future__ import annotations

from graphlib import CycleError as _GraphCycle
from graphlib import TopologicalSorter

from elt.errors import CycleError
from transforms.models import Model


def dependencies(models: dict[str, Model]) -> dict[str, tuple[str, ...]]:
    """Model -> the models it reads (references to unknown names are lint's business, not the graph's)."""
    return {name: tuple(r for r in model.model_refs if r in models) for name, model in models.items()}


def find_cycle(deps: dict[str, tuple[str, ...]]) -> list[str] | None:
    """One dependency cycle as a closed path [a, b, a], or None."""
    try:
        TopologicalSorter(deps).prepare()
        return None
    except _GraphCycle as err:
        cycle = list(reversed(err.args[1]))  # graphlib reports it against the edge direction
        return cycle


def topological_order(models: dict[str, Model]) -> list[str]:
    """Upstream models first; ties broken by name so builds and fingerprints are deterministic."""
    deps = dependencies(models)
    cycle = find_cycle(deps)
    if cycle:
        first = models[cycle[0]]
        raise CycleError(f"dependency cycle: {' -> '.join(cycle)}", where=first.location(),
                         hint="break the cycle: one of these models must stop reading the next")
    sorter = TopologicalSorter(deps)
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready())
        order.extend(ready)
        sorter.done(*ready)
    return order
