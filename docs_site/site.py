"""Write the docs site of a project: lint and compile the models, trace their columns, read what the warehouse
knows (read-only), and write every page into a fresh folder that then replaces the old site at once.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from checks.contracts import Contract, load_contracts
from docs_site import DEFAULT_OUT, assets, facts, pages
from elt import warehouse
from elt.config import Project, Target
from elt.errors import CompileError, EltError
from sources import catalog
from transforms.compile import compile_model
from transforms.lineage import project_lineage
from transforms.lint.query import query_problems
from transforms.plan import Plan, make_plan

MARKER = ".elt-docs"  # a folder holding this file is a site we wrote, and may be replaced


@dataclass(frozen=True)
class Written:
    out: Path
    pages: int
    largest: tuple[str, int]  # the largest page (relative path) and its size in bytes
    note: str  # what the warehouse could not tell, if anything


def write_site(project: Project, target: Target, out: Path | None = None,
               wh: warehouse.Warehouse | None = None,
               planned: tuple[Plan, dict[str, Contract]] | None = None) -> Written:
    """The site for `target` in `out` (default: .elt/docs in the project). `wh`: an open connection to read the
    warehouse through (the flow's); otherwise a read-only one is opened if the warehouse has data. `planned`:
    the project's plan and contracts when the caller has them (the flow), so the models are not linted again."""
    out = (project.root / (out or DEFAULT_OUT)).resolve()
    _check_replaceable(out)
    plan, contracts = planned or _plan(project, target, wh)
    site = pages.Site(project=project, target=target, models=plan.models, order=plan.order,
                      lineage=project_lineage(plan.models, plan.relations),
                      facts=facts.read(project, target, plan.models, wh), contracts=contracts,
                      compiled=_compiled(project, plan.models), generated_at=datetime.now(timezone.utc))
    files = {"index.html": pages.index_page(site), "assets/style.css": assets.STYLE,
             "assets/search.js": assets.SEARCH, "assets/search-index.js": pages.search_index(site)}
    files |= {pages.model_href(name): pages.model_page(site, name) for name in plan.order}
    files |= {f"sources/{name}.html": pages.source_page(site, name) for name in project.sources}
    _replace(out, files)
    html = {path: len(text.encode()) for path, text in files.items() if path.endswith(".html")}
    largest = max(html.items(), key=lambda item: item[1])
    return Written(out, len(html), largest, site.facts.note)


def _plan(project: Project, target: Target, wh: warehouse.Warehouse | None) -> tuple[Plan, dict[str, Contract]]:
    """Lint and order the models without compiling them: the pages compile for each target themselves."""
    raw = catalog.raw_relations(project, warehouse.raw_catalog(wh)) if wh is not None else \
        catalog.raw_relations_of(project, target)
    plan = make_plan(project.models_dir, raw, None, project.published_schema)
    return plan, load_contracts(project.contracts_dir, plan.outputs(), target.dialect,
                                partial(query_problems, relations=plan.relations, dialect=target.dialect))


def _compiled(project: Project, models: dict) -> dict[str, list[tuple[str, str]]]:
    """Each model's SQL for every other dialect the project's targets have (once per dialect)."""
    dialects: dict[str, list[str]] = {}
    for target in project.targets.values():
        if target.dialect != project.dialect:
            dialects.setdefault(target.dialect, []).append(target.name)
    compiled: dict[str, list[tuple[str, str]]] = {}
    for name, model in models.items():
        for dialect, targets in sorted(dialects.items()):
            label = f"{', '.join(targets)} ({dialect})"
            try:
                sql = compile_model(model, dialect, pretty=True)
            except CompileError as err:  # the page says why, as `elt compile` would
                sql = f"-- does not compile for {dialect}: {str(err).split(': ', 1)[-1]}"
            compiled.setdefault(name, []).append((label, sql))
    return compiled


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that is not a site of ours: `--out .` must not delete a project."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).exists())):
        raise EltError(f"{out} exists and is not a docs site written by `elt docs`",
                       hint="choose an empty or new folder for --out (the site replaces the folder's contents)")


def _replace(out: Path, files: dict[str, str]) -> None:
    """Write beside `out`, then swap: a server or browser reading the old site never sees half of the new."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for relative, text in files.items():
            path = fresh / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        (fresh / MARKER).write_text("written by `elt docs`; the next run replaces this folder\n", encoding="utf-8")
        fresh.chmod(0o755)  # mkdtemp makes it private; a web server may run as another user
        old = out.with_name(f".{out.name}-old")
        shutil.rmtree(old, ignore_errors=True)
        if out.exists():
            out.rename(old)
        fresh.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
