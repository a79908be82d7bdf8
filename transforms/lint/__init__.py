"""Lint: every rule reads the whole project context and yields violations.

Rules are registered in RULES; each lives in its own module with a golden fixture under tests/lint/.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elt.errors import Location, ModelError
from transforms.graph import dependencies, find_cycle
from transforms.models import Model, discover, parse_model
from transforms.schema import Relations, project_relations


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    location: Location

    def __str__(self) -> str:
        return f"{self.location}: {self.code} {self.message}"


@dataclass
class LintContext:
    """What rules look at: parsed models (by path: duplicates must stay visible) and known relations."""

    models: list[Model]
    parse_errors: list[ModelError]
    raw: Relations
    published_schema: str = "analytics"
    relations: Relations = field(default_factory=dict)

    @property
    def by_name(self) -> dict[str, Model]:
        return {m.name: m for m in self.models}


def load_context(models_dir: Path, raw: Relations, dialect: str = "duckdb",
                 published_schema: str = "analytics") -> LintContext:
    """Parse every model file, keeping parse errors as data so one bad file does not hide the rest."""
    models, errors = [], []
    for path in discover(models_dir):
        try:
            models.append(parse_model(path, models_dir, dialect))
        except ModelError as err:
            errors.append(err)
    context = LintContext(models=models, parse_errors=errors, raw=raw, published_schema=published_schema)
    by_name = context.by_name
    deps = dependencies(by_name)
    order = _order_ignoring_cycles(deps)
    context.relations = project_relations(by_name, order, raw)
    return context


def _order_ignoring_cycles(deps: dict[str, tuple[str, ...]]) -> list[str]:
    """Upstream-first order; models in a cycle are appended last (the cycle rule reports them)."""
    order: list[str] = []
    placed: set[str] = set()
    remaining = dict(deps)
    while remaining:
        ready = sorted(n for n, ups in remaining.items() if all(u in placed for u in ups))
        if not ready:
            if find_cycle(remaining):
                order.extend(sorted(remaining))
            break
        order.extend(ready)
        placed.update(ready)
        for name in ready:
            del remaining[name]
    return order


def lint(context: LintContext) -> list[Violation]:
    from transforms.lint.rules import RULES

    found = [v for rule in RULES for v in rule.check(context)]
    return sorted(found, key=lambda v: (str(v.location.path), v.location.line or 0, v.location.col or 0, v.code))
