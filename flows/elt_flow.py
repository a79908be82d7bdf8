"""The ELT flow: extract -> lint/compile -> build -> verify -> publish, one task per step or model.

Run it with `elt run`, `python -m flows.elt_flow`, or `from flows.elt_flow import elt_pipeline`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import Annotated, Any

from prefect import flow, task
from prefect.artifacts import create_link_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.states import Cancelled, State
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote
from pydantic import Field

from checks import history as check_history
from checks.contracts import Contract, load_contracts
from checks.freshness_sla import freshness_sla
from checks.gate import GateReport, decide
from checks.schema_change import schema_change
from checks.verify import CheckOutcome
from docs_site.site import write_site
from elt import blocked, clock, warehouse
from elt import publish as publishing
from elt.config import Project, Target, load_project
from elt.errors import BuildError, ConfigError, DeadLettersExceeded, EltError, GateError, SchemaFrozenError
from flows import events
from flows.model_tasks import build_and_verify, ref_relations, remember_verified
from flows.report import Progress, failure_details, report
from flows.report import key as artifact_key
from flows.writer import DEFAULT_WAIT_SECONDS, sole_writer
from sources import catalog, runner
from transforms import selection
from transforms.build import (
    BuildResult,
    Version,
    check_full_refresh,
    compact,
    model_of,
    plan_versions,
)
from transforms.lint.query import query_problems
from transforms.models import parse_all
from transforms.plan import Plan, make_plan

log = logging.getLogger("elt.flow")


@dataclass
class RunSummary:
    """What one run did, for the CLI, the artifacts and tests."""

    run_id: str
    target: str
    warehouse: str  # where the data is, without credentials
    loads: list[runner.LoadResult] = field(default_factory=list)
    builds: list[BuildResult] = field(default_factory=list)
    build_seconds: float = 0.0  # building and verifying the models, side by side
    gate: GateReport | None = None
    publication: publishing.Publication | None = None


def _retry_unless_user_error(task, task_run, state) -> bool:
    """Retry transient failures; a config error fails identically every time."""
    try:
        state.result()
    except (ConfigError, SchemaFrozenError, DeadLettersExceeded):
        return False
    except Exception:
        return True
    return False


@task(task_run_name="extract-{source_name}", cache_policy=NO_CACHE, retries=3,
      retry_delay_seconds=exponential_backoff(backoff_factor=2), retry_jitter_factor=0.5,
      retry_condition_fn=_retry_unless_user_error)
def extract(project: Project, source_name: str, target_name: str) -> runner.LoadResult:
    """Load one source. No tags on the run's tasks: a task run with tags asks the server for a concurrency
    lease, which on a SQLite-backed server took 0.1-2 s (a "database is locked" retry) per run."""
    result = runner.load(project, project.sources[source_name], project.target(target_name),
                         run_id=str(flow_run.id))
    tables = ", ".join(f"{t} {n}" for t, n in sorted(result.rows.items())) or "nothing new"
    cursors = ", ".join(f"{t} {c}" for t, c in sorted(result.cursors.items())) or "-"
    log.info("source %s: %d rows loaded (%s); %d dead letters; cursors: %s", source_name, result.total_rows, tables,
             result.dead_letters, cursors)
    return result


@task(name="lint-and-compile", task_run_name="lint-and-compile", cache_policy=NO_CACHE)
def plan_models(project: Project, target: Target, wh: warehouse.Warehouse) -> tuple[Plan, dict[str, Contract]]:
    raw = catalog.raw_relations(project, warehouse.raw_catalog(wh))
    plan = make_plan(project.models_dir, raw, target.dialect, project.published_schema)
    contracts = load_contracts(project.contracts_dir, plan.outputs(), target.dialect,
                               partial(query_problems, relations=plan.relations, dialect=target.dialect))
    return plan, contracts


@task(name="publish", task_run_name="publish", cache_policy=NO_CACHE)
def publish(wh: warehouse.Warehouse, project: Project, plan: Plan, run_id: str, versions: dict[str, Version],
            gate: GateReport) -> publishing.Publication | None:
    """Publish the run's versions; with a selection, the other models keep their published versions."""
    before = publishing.current(wh)
    kept = {**before.models, **before.internal} if before else {}
    relations = {m: r for m, r in kept.items() if model_of(m) in plan.models} | versions.relations()
    public = {m: r for m, r in relations.items() if m in plan.models and plan.models[m].published}
    internal = {m: r for m, r in relations.items() if m not in public}
    publication = publishing.publish(wh, project.published_schema, run_id, public, gate.summary, internal)
    dropped = publishing.janitor(wh, project.keep_publications, protect=set(versions.relations().values()))
    if dropped:
        log.info("janitor dropped %d old version(s)", len(dropped))
    compact(wh, publishing.history(wh, limit=project.keep_publications))
    return publication


@task(name="publish", task_run_name="publish", cache_policy=NO_CACHE)
def publish_not_run(why: str) -> State:
    """A blocked run's publish step: in the run graph as not run (Cancelled), saying why."""
    return Cancelled(message=f"not run: {why}; every published name still shows what it showed before")


def _run_name() -> str:
    """`shop_demo-dev-orders+`: project, target and selection, so runs of projects sharing a server differ."""
    params = flow_run.parameters
    try:
        project = load_project(Path(params["project_dir"]) if params.get("project_dir") else None)
        name, target = project.name, params.get("target") or project.default_target
    except EltError:  # the flow reports it properly; the name just cannot say more
        name, target = "elt", params.get("target") or "default"
    chosen = "+".join(params.get("select") or []) or "all"
    excluded = "".join(f"-{e}" for e in params.get("exclude") or [])
    return f"{name}-{target}-{chosen}{excluded}"


def _tag_run(project: Project, target: Target, select: list[str] | None, exclude: list[str] | None) -> None:
    """Tags on the flow run (CLI and deployment runs alike), to filter runs by project, target and selection.
    Not on its tasks: a tagged task run asks the server for a concurrency lease."""
    from prefect.client.orchestration import get_client

    tags = {"elt", f"project:{project.name}", f"target:{target.name}", *(f"select:{s}" for s in select or []),
            *(f"exclude:{e}" for e in exclude or [])}
    run_id = flow_run.get_id()
    if run_id is None or tags <= set(flow_run.tags):
        return
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run_id, tags=sorted(tags | set(flow_run.tags)))
    except Exception as err:  # labels only: the run goes on
        log.warning("could not tag the flow run: %s", err)


def _sources_to_extract(project: Project, select: list[str] | None, exclude: list[str] | None) -> list[str]:
    """Every source for a whole run; for a selection, only the sources its models read."""
    if not (select or exclude):
        return list(project.sources)
    models = parse_all(project.models_dir)
    needed = selection.sources_read(models, selection.resolve(models, select, exclude))
    return [name for name, source in project.sources.items() if source.dataset in needed]


def _target_choices() -> dict[str, Any]:
    """The deployment form offers the targets declared in the project `prefect deploy` runs in, as a choice
    rather than free text. Only the JSON schema says so: a call from Python takes any name and, for one the
    project does not declare, gets the project's own error."""
    try:
        return {"enum": ["", *(name for name, t in load_project(None).targets.items() if t.runnable)]}
    except (EltError, OSError):  # no project here (an import from elsewhere): free text
        return {}


TargetName = Annotated[str, Field(json_schema_extra=_target_choices())]


@flow(name="elt", flow_run_name=_run_name, log_prints=True)
def elt_pipeline(target: TargetName = "", select: list[str] | None = None, project_dir: str = "",
                 wait_for_warehouse_seconds: float = DEFAULT_WAIT_SECONDS,
                 full_refresh: list[str] | None = None, exclude: list[str] | None = None,
                 extract_sources: bool = True, docs_dir: str = "") -> RunSummary:
    """Extract every source, build and verify the models, publish them at once if every check passes.

    Args:
        target: A target declared in the project's elt.toml (e.g. dev, pg). Empty: the project's default_target.
        select: Models to build, each a selector: `orders`; `orders+` with its downstream; `+orders`;
            `tag:finance` or `tag:finance+`. What they read comes along, only the sources they read are
            extracted, and every other model keeps its published version. Empty: every model.
        project_dir: The project folder (the one with elt.toml). Empty: found from the working directory.
        wait_for_warehouse_seconds: How long to wait for another run writing to the same warehouse.
        full_refresh: Incremental models to rebuild in full rather than from their new rows.
        exclude: Models not to build (selectors, as in select), nor any model that reads them.
        extract_sources: False builds from the raw data as loaded, extracting nothing (`elt build`).
        docs_dir: Write the docs site here (relative to the project, e.g. .elt/docs) after every run that
            passes its gate, and link it as an artifact. Empty: no docs.
    """
    project = load_project(Path(project_dir) if project_dir else None)
    target_ = project.target(target or None)
    warehouse.check_runnable(target_)
    run_id = str(flow_run.get_id() or f"local-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}")
    _tag_run(project, target_, select, exclude)
    summary = RunSummary(run_id=run_id, target=target_.name, warehouse=target_.describe())
    to_extract = _sources_to_extract(project, select, exclude)  # a typo fails here, before any extraction
    to_extract = to_extract if extract_sources else []
    progress = Progress(project, target_.name)
    with sole_writer(project, target_, wait_for_warehouse_seconds):
        for number, name in enumerate(to_extract, start=1):
            summary.loads.append(extract(project, name, target_.name))
            progress.at(25.0 * number / len(to_extract))
        wh = warehouse.connect(target_)
        try:
            plan, contracts = plan_models(project, target_, wh)
            chosen_names = selection.resolve(plan.models, select, exclude)
            chosen = [name for name in plan.order if name in chosen_names]
            _warn_unchecked(plan, contracts, chosen)
            check_full_refresh(plan.models, full_refresh or [])
            in_effect = publishing.current(wh)
            published = {**in_effect.models, **in_effect.internal} if in_effect else {}
            versions = plan_versions(wh, plan.models, chosen, plan.outputs(), published, set(full_refresh or []),
                                     run_id)
            started, checked_at = time.perf_counter(), clock.now()
            freshness = freshness_sla(wh, project.sources, summary.loads, checked_at)
            for breach in (o for o in freshness if o.outcome != "PASSED"):
                log.warning("%s: %s on %s: %s, measured %s", breach.model, breach.check, breach.column,
                            breach.outcome, breach.shown_value)
                events.freshness_breached(project, target_, run_id, breach)
            try:
                summary.builds, outcomes = build_and_verify(wh, plan, versions, contracts, chosen, checked_at,
                                                            published, target_.threads,
                                                            lambda done: progress.at(25.0 + 60.0 * done))
            except BuildError as failed:  # the report shows what every other model did
                summary.builds, summary.gate = failed.builds, decide(freshness + failed.outcomes)
                _remember(wh, run_id, checked_at, summary, "build", str(failed).splitlines()[1:] or [str(failed)])
                publish_not_run(str(failed).splitlines()[0].split(";")[0], return_state=True)
                report(project, summary)
                failed.summary = summary
                raise
            finally:
                summary.build_seconds = time.perf_counter() - started
            summary.gate = decide(freshness + outcomes + _schema_changes(wh, plan, summary.builds, published))
            progress.at(85.0)
            refs_of = partial(ref_relations, versions=versions, published=published)
            if not summary.gate.passed:
                details = failure_details(wh, contracts, summary.builds, summary.gate.failures, refs_of)
                _remember(wh, run_id, checked_at, summary, "gate", summary.gate.explain().splitlines()[1:], details)
                publish_not_run(f"{len(summary.gate.failures)} of {len(summary.gate.outcomes)} check(s) did not pass",
                                return_state=True)
                report(project, summary, details)
                events.gate_failed(project, target_, run_id, summary.gate)
                raise GateError(summary.gate.explain(), summary.gate, summary)
            remember_verified(wh, summary.builds, contracts, outcomes, versions, published)
            # read before publishing: an incremental model's delta is what was verified
            warned = failure_details(wh, contracts, summary.builds, summary.gate.warnings, refs_of)
            # quoted: Prefect would walk every model of the plan looking for futures (~2 s at 1,000 models)
            summary.publication = publish(wh, project, quote(plan), run_id, quote(versions), summary.gate)
            _remember(wh, run_id, checked_at, summary, details=warned)
            if docs_dir:
                _write_docs(project, target_, wh, docs_dir, (plan, contracts))
        finally:
            wh.close()
    if summary.publication:
        built = [b.model for b in summary.builds if b.status == "built"]
        events.publication_completed(project, target_, run_id, summary.publication, built)
    progress.at(100.0)
    report(project, summary)
    return summary


def _schema_changes(wh: warehouse.Warehouse, plan: Plan, builds: list[BuildResult],
                    published: dict[str, str]) -> list[CheckOutcome]:
    """Each published model whose new version's columns differ from the published version's (also a version
    a blocked run built and this run reuses)."""
    changed = [schema_change(wh, b.model, b.relation, published.get(b.model),
                             plan.models[b.model].schema_change == "allow")
               for b in builds if b.status in ("built", "skipped") and plan.models[b.model].published]
    return [o for o in changed if o is not None]


def _remember(wh: warehouse.Warehouse, run_id: str, checked_at: datetime, summary: RunSummary,
              blocked_by: str = "", failures: list[str] | None = None, details: list | None = None) -> None:
    """The run's check outcomes and failed rows for `elt checks`; a blocked run (`blocked_by` gate or build) for
    `elt history` and `elt verify --last-build`. A warehouse that cannot take the records must not hide how
    the run ended."""
    builds = summary.builds
    try:
        with wh.transaction():  # a run's records whole or not at all, in one commit
            check_history.record(wh, run_id, checked_at, summary.gate.outcomes if summary.gate else (),
                                 {b.model: b.relation for b in builds}, published=summary.publication is not None)
            check_history.record_samples(wh, run_id, checked_at, details or [])
            if blocked_by:
                candidates = {b.model: [b.relation, b.audited] for b in builds if b.status == "built"}
                # wall time, as publications are stamped: `elt history` orders the two together (ELT_NOW pins
                # only the data's clock)
                blocked.record(wh, blocked.BlockedRun(run_id, datetime.now(timezone.utc), blocked_by,
                                                      [f.strip() for f in failures or []], candidates))
    except Exception as err:  # the run's own outcome follows
        log.warning("could not record the run's checks in the warehouse: %s", err)


def _write_docs(project: Project, target: Target, wh: warehouse.Warehouse, docs_dir: str,
                planned: tuple[Plan, dict[str, Contract]]) -> None:
    """The docs site of what was just published, from the run's own plan, linked as an artifact. The data is
    published either way: a site that cannot be written is a warning, not a failed run."""
    try:
        written = write_site(project, target, Path(docs_dir), wh, planned)
    except Exception as err:
        log.warning("the docs site was not written to %s: %s", docs_dir, err)
        return
    create_link_artifact(key=artifact_key(project, target.name, "docs"), link=written.out.as_uri(),
                         link_text=f"docs site: {written.out}/index.html",
                         description=f"{written.pages} pages; open index.html, or serve the folder: "
                                     f"python -m http.server -d {written.out}")


def _warn_unchecked(plan: Plan, contracts: dict[str, Contract], chosen: list[str]) -> None:
    unchecked = [n for n in chosen if plan.models[n].published and n not in contracts]
    if unchecked:
        log.warning("published without a contract (nothing verifies them): %s", ", ".join(unchecked))


if __name__ == "__main__":
    elt_pipeline()
