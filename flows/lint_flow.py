"""Lint-only flow: every model parsed, linted and compiled for the target, nothing written anywhere.

For an on-demand check of the project as checked out on the worker (e.g. after a merge).
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from elt.config import load_project
from elt.errors import CompileError, LintError, Location
from flows import report
from sources import catalog
from transforms.lint import Violation
from transforms.plan import lint_project, make_plan


@flow(name="elt-lint", flow_run_name="elt-lint-{target}")
def elt_lint(target: str = "", project_dir: str = "") -> int:
    """Lint every model against the target's raw tables; fail the run on any violation."""
    project = load_project(Path(project_dir) if project_dir else None)
    target_ = project.target(target or None)
    raw = catalog.raw_relations_of(project, target_)
    context, violations = lint_project(project.models_dir, raw, project.dialect, project.published_schema)
    if not violations:
        try:
            make_plan(project.models_dir, raw, target_.dialect, project.published_schema)
        except CompileError as err:  # the SQL is fine in the authoring dialect but cannot run on the target
            violations = [Violation("COMPILE", err.message + (f" — {err.hint}" if err.hint else ""),
                                    err.where or Location(project.models_dir))]
    lines = "\n".join(str(v).replace(f"{project.root}/", "") for v in violations)
    create_markdown_artifact(key=report.key(project, target_.name, "lint"),
                             description=f"Lint report of {project.name} on {target_.name}", markdown=(
        f"## Lint: {len(violations)} problem(s) in {len(context.models)} model(s)\n\n"
        + (f"```\n{lines}\n```\n" if violations else "Every model is clean.\n")))
    if violations:
        raise LintError(violations)
    return len(context.models)


if __name__ == "__main__":
    elt_lint()
