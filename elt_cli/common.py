"""What the `elt` commands share: the project from --project, checks before work, how output reads."""
from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from elt.errors import EltError, Location


def relative(text: str) -> str:
    """Paths inside the current directory read shorter and stay clickable."""
    return text.replace(f"{Path.cwd()}/", "")


def print_excerpt(where: Location | None) -> None:
    """The source line of a file:line:col location with a caret under the column, on stderr (stdout keeps one
    line per problem for editors and scripts)."""
    if where is None or where.line is None or not Path(where.path).is_file():
        return
    lines = Path(where.path).read_text(encoding="utf-8", errors="replace").splitlines()
    if not 1 <= where.line <= len(lines):
        return
    text = lines[where.line - 1].replace("\t", " ")
    gutter = f"{where.line:>4} | "
    print(f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * ((where.col or 1) - 1)}^", file=sys.stderr, flush=True)


def with_warehouse(args: argparse.Namespace) -> tuple:
    """(project, target) for a command that reads the target's warehouse: it must be runnable and exist."""
    from elt import warehouse

    project = project_of(args)
    target = project.target(args.target)
    warehouse.check_runnable(target)
    if not warehouse.has_data(target):
        raise EltError(f"warehouse {target.describe()} does not exist yet", hint="run `elt run` first")
    return project, target


def project_of(args: argparse.Namespace):
    from elt.config import load_project

    return load_project(Path(args.project) if args.project else None)


RAW_DEPENDENT_LINT = ("L002", "L003")  # unknown tables and columns: a first load may still create them


def check_selection(project, args: argparse.Namespace) -> None:
    """Selectors and --full-refresh names, checked before Prefect starts or anything is extracted."""
    if not (args.select or args.exclude or args.full_refresh):
        return
    from transforms import selection
    from transforms.build import check_full_refresh
    from transforms.models import parse_all

    models = parse_all(project.models_dir)
    selection.resolve(models, args.select, args.exclude)
    check_full_refresh(models, args.full_refresh)


def check_contracts(project, target, context=None) -> dict:
    """Validate the models and every contract before anything is extracted; returns the contracts.

    Lint problems about tables and columns may be raw tables the first load creates: the run lints again
    after extraction, with the tables as loaded, and checks those models' contracts then.
    """
    from checks.contracts import load_contracts
    from elt.errors import LintError
    from sources.catalog import raw_relations_of
    from transforms.lint.query import query_problems
    from transforms.plan import lint_project

    if context is None:
        context, violations = lint_project(project.models_dir, raw_relations_of(project, target), project.dialect,
                                           project.published_schema)
        if [v for v in violations if v.code not in RAW_DEPENDENT_LINT]:
            raise LintError(violations)
        if violations:
            return {}
    outputs = {name: context.relations.get(name) for name in context.by_name}
    return load_contracts(project.contracts_dir, outputs, target.dialect,
                          partial(query_problems, relations=context.relations, dialect=target.dialect))


def print_json(value: object) -> None:
    print(json.dumps(value, indent=2, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)))
