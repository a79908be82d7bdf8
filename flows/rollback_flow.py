"""Rollback flow: point every published name back at the previous publication (a manual deployment).

The same pointer move as `elt rollback`, run where the team watches runs, with an event for automations.
"""
from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.runtime import flow_run

from elt import publish, warehouse
from elt.config import load_project
from flows import events, report
from flows.writer import DEFAULT_WAIT_SECONDS, sole_writer


@flow(name="elt-rollback", flow_run_name="elt-rollback-{target}")
def elt_rollback(target: str = "", project_dir: str = "",
                 wait_for_warehouse_seconds: float = DEFAULT_WAIT_SECONDS) -> int:
    """Restore the publication before the one in effect; returns the new (rollback) publication id."""
    project = load_project(Path(project_dir) if project_dir else None)
    target_ = project.target(target or None)
    run_id = str(flow_run.get_id())
    with sole_writer(project, target_, wait_for_warehouse_seconds):
        con = warehouse.connect(target_)
        try:
            publication = publish.rollback(con, project.published_schema, run_id)
        finally:
            con.close()
    events.rolled_back(project, target_, run_id, publication)
    names = "\n".join(f"- `{project.published_schema}.{m}` -> `{r}`" for m, r in sorted(publication.models.items()))
    create_markdown_artifact(key=report.key(project, target_.name, "rollback"),
                             description=f"Rollback of {project.name} on {target_.name}", markdown=(
        f"## Rolled back to publication {publication.restores}\n\nRecorded as publication {publication.id}.\n\n"
        + names + "\n"))
    return publication.id


if __name__ == "__main__":
    elt_rollback()
