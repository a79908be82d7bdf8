"""A run's transform plan: lint every model, order them by dependency, check they compile for the target."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elt.errors import LintError
from transforms.compile import compile_model
from transforms.graph import topological_order
from transforms.lint import LintContext, Violation, lint, load_context
from transforms.models import Model
from transforms.schema import Relations


@dataclass(frozen=True)
class Plan:
    models: dict[str, Model]
    order: list[str]
    relations: Relations  # raw tables and every model's output columns

    def outputs(self) -> dict[str, list[str] | None]:
        return {name: self.relations.get(name) for name in self.models}


def lint_project(models_dir: Path, raw: Relations, dialect: str = "duckdb",
                 published_schema: str = "analytics") -> tuple[LintContext, list[Violation]]:
    context = load_context(models_dir, raw, dialect, published_schema)
    return context, lint(context)


def make_plan(models_dir: Path, raw: Relations, target_dialect: str | None = "duckdb",
              published_schema: str = "analytics") -> Plan:
    """Lint (any violation raises LintError), order, and compile every model for the target dialect (None: do
    not compile; the docs compile for each target themselves and show what does not)."""
    context, violations = lint_project(models_dir, raw, "duckdb", published_schema)
    if violations:
        raise LintError(violations)
    models = context.by_name
    order = topological_order(models)
    for name in order if target_dialect else ():
        compile_model(models[name], target_dialect)
    return Plan(models=models, order=order, relations=context.relations)
