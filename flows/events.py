"""Prefect events the toolkit emits, so automations can alert on them (see automations/).

Every event's resource is the warehouse (`elt.warehouse.<project>.<target>`); the emitting flow run is
attached by Prefect as a related resource. Each payload has `summary`, one line a person reads in a
notification, beside the structured fields automations filter on.
"""
from __future__ import annotations

from typing import Any

from prefect.events import emit_event

from checks.gate import GateReport, describe
from checks.verify import CheckOutcome
from elt.config import Project, Target
from elt.publish import Publication

PUBLISHED = "elt.publication.completed"
GATE_FAILED = "elt.gate.failed"
ROLLED_BACK = "elt.publication.rolled_back"
FRESHNESS_BREACHED = "elt.freshness.breached"


def _resource(project: Project, target: Target) -> dict[str, str]:
    return {"prefect.resource.id": f"elt.warehouse.{project.name}.{target.name}",
            "prefect.resource.name": f"{project.name} on {target.name}"}


def publication_completed(project: Project, target: Target, run_id: str, publication: Publication,
                          changed: list[str]) -> None:
    checks = publication.summary
    summary = (f"{project.name} on {target.name}: publication {publication.id} published "
               f"{', '.join(changed) or 'the same versions'}; {checks.get('passed', 0)}/{checks.get('checks', 0)} "
               "checks passed")
    emit_event(PUBLISHED, resource=_resource(project, target), payload={
        "summary": summary, "run_id": run_id, "publication_id": publication.id, "models": sorted(publication.models),
        "changed_models": changed, "checks": checks})


def gate_failed(project: Project, target: Target, run_id: str, gate: GateReport) -> None:
    failures: list[dict[str, Any]] = [
        {"model": o.model, "check": o.check, "column": o.column, "outcome": o.outcome, "value": o.value,
         "threshold": o.threshold} for o in gate.failures]
    first = gate.failures[0]
    more = f" (and {len(gate.failures) - 1} more)" if len(gate.failures) > 1 else ""
    summary = (f"{project.name} on {target.name}: publication blocked, {len(gate.failures)} of {len(gate.outcomes)} "
               f"checks did not pass: {first.model}: {describe(first)}{more}")
    emit_event(GATE_FAILED, resource=_resource(project, target), payload={
        "summary": summary, "run_id": run_id, "models": sorted({o.model for o in gate.failures}),
        "failures": failures, "checks": gate.summary})


def rolled_back(project: Project, target: Target, run_id: str, publication: Publication) -> None:
    summary = (f"{project.name} on {target.name}: rolled back to the answers of publication {publication.restores} "
               f"(as publication {publication.id})")
    emit_event(ROLLED_BACK, resource=_resource(project, target), payload={
        "summary": summary, "run_id": run_id, "publication_id": publication.id,
        "restored_publication": publication.restores,
        "models": sorted(publication.models)})


def freshness_breached(project: Project, target: Target, run_id: str, outcome: CheckOutcome) -> None:
    """A table whose newest data is older than its SLA (`outcome`: checks/freshness_sla.py)."""
    blocks = outcome.outcome == "FAILED"
    summary = (f"{project.name} on {target.name}: {outcome.model}.{outcome.column} is {outcome.shown_value} old, "
               f"beyond its SLA of {outcome.threshold.removesuffix(' (warn)').removeprefix('< ')}"
               + ("; nothing is published" if blocks else ""))
    emit_event(FRESHNESS_BREACHED, resource=_resource(project, target), payload={
        "summary": summary, "run_id": run_id, "source": outcome.model.removeprefix("raw_"), "dataset": outcome.model,
        "resource": outcome.column, "age_hours": outcome.value, "sla": outcome.threshold, "blocks": blocks})
