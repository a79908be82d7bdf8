"""Which models a run builds: `--select` and `--exclude` selectors, resolved against the dependency graph.

A selector is a model name or `tag:<tag>`, with `+` after it for everything downstream (`orders+`) and `+`
before it for everything upstream (`+orders`). Upstream models always come along, `+` or not: a model is
built from the versions of what it reads that the same run publishes (an unchanged one is not rebuilt).
An excluded model takes its downstream with it, for the same reason: nothing is built from a version this
run does not make.
"""
from __future__ import annotations

from difflib import get_close_matches

from elt.errors import EltError
from transforms.graph import dependencies
from transforms.models import Model


def resolve(models: dict[str, Model], select: list[str] | None = None,
            exclude: list[str] | None = None) -> set[str]:
    """The models a run with these selectors builds; no `select` means every model."""
    deps = dependencies(models)
    readers = _readers(deps)
    chosen = set(models) if not select else set().union(*(_expand(models, s, readers) for s in select))
    if exclude:
        removed = _closure(set().union(*(_expand(models, s, readers) for s in exclude)), readers)
        chosen -= removed
        if not chosen:
            raise EltError(f"--exclude {' '.join(exclude)} leaves no model to build",
                           hint="an excluded model takes every model that reads it along; narrow --exclude")
    return _closure(chosen, deps)


def sources_read(models: dict[str, Model], chosen: set[str]) -> set[str]:
    """Raw datasets (`raw_<source>`) the chosen models read: the sources a selective run must extract."""
    return {ref.schema for name in chosen for ref in models[name].refs if ref.schema}


def _expand(models: dict[str, Model], selector: str, readers: dict[str, set[str]]) -> set[str]:
    core = selector.strip()
    downstream = core.endswith("+")
    core = core.removeprefix("+").removesuffix("+")
    if core.startswith("tag:"):
        tag = core[4:]
        found = {name for name, m in models.items() if tag in m.tags}
        if not found:
            tags = sorted({t for m in models.values() for t in m.tags})
            raise EltError(f"no model has tag {tag!r} (selector {selector!r})",
                           hint=_suggest(tag, tags, "tag:") or f"tags: {', '.join(tags) or 'none declared'}")
    elif core in models:
        found = {core}
    else:
        raise EltError(f"unknown model {core!r} in selector {selector!r}",
                       hint=_suggest(core, sorted(models), "") or
                       "a selector is MODEL, +MODEL, MODEL+, +MODEL+ or tag:TAG (each may end in +)")
    return _closure(found, readers) if downstream else found


def _suggest(word: str, known: list[str], prefix: str) -> str:
    close = get_close_matches(word, known, n=3, cutoff=0.6)
    return f"did you mean {' or '.join(prefix + c for c in close)}?" if close else ""


def _readers(deps: dict[str, tuple[str, ...]]) -> dict[str, set[str]]:
    """Model -> the models that read it (the graph's edges turned round)."""
    readers: dict[str, set[str]] = {name: set() for name in deps}
    for reader, read in deps.items():
        for name in read:
            readers[name].add(reader)
    return readers


def _closure(start: set[str], edges: dict) -> set[str]:
    """`start` and everything reachable from it along `edges`."""
    found, stack = set(start), list(start)
    while stack:
        for nxt in edges[stack.pop()]:
            if nxt not in found:
                found.add(nxt)
                stack.append(nxt)
    return found
