"""What a run leaves in the Prefect UI: its summary table, the note of a blocked publication, its progress.

Artifact keys are shared by every project on a server, so each carries the project and the target
(`shop-demo-dev-run-summary`): the latest one under a key is this project's, on this target. The summary
lists what failed first, every loaded table with its cursor (tables with nothing new too), units as the
contract wrote them, and counts in words that agree with their number.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

from checks.contracts import Contract
from checks.failures import FailureDetail, explain
from checks.gate import GateReport, describe
from elt.config import Project


def key(project: Project, target: str, what: str) -> str:
    """An artifact key (lowercase letters, digits and dashes) naming the project and target."""
    return re.sub(r"[^a-z0-9]+", "-", f"{project.name}-{target}-{what}".lower()).strip("-")


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


class Progress:
    """The run's progress artifact: moved as each source loads and each model is built and verified, and only
    when the whole percent changes (each move is one API call)."""

    def __init__(self, project: Project, target: str) -> None:
        self.id = create_progress_artifact(0.0, key=key(project, target, "progress"),
                                           description=f"ELT run of {project.name} on {target}")
        self.shown = 0

    def at(self, percent: float) -> None:
        whole = int(min(max(percent, 0.0), 100.0))
        if whole != self.shown and self.id is not None:
            self.shown = whole
            update_progress_artifact(self.id, float(whole))


def summary_rows(summary: Any) -> list[dict[str, str]]:
    """The run as a table: failed checks and builds first, then warnings, loads, builds, checks, the
    publication."""
    gate: GateReport | None = summary.gate
    failed_checks = gate.failures if gate else []
    warnings = gate.warnings if gate else []
    failed_builds = [b for b in summary.builds if b.status not in ("built", "skipped")]
    rows = ([_check_row(o) for o in failed_checks] + [_build_row(b) for b in failed_builds]
            + [_check_row(o) for o in warnings])
    for load in summary.loads:
        for table in sorted(set(load.rows) | set(load.cursors)):
            rows.append({"step": "load", "name": f"{load.dataset}.{table}",
                         "result": plural(load.rows.get(table, 0), "row") if load.rows.get(table) else "nothing new",
                         "detail": f"cursor {load.cursors.get(table, '-')}"})
        if load.dead_letters:
            rows.append({"step": "load", "name": f"{load.dataset}._dead_letters",
                         "result": f"{plural(load.dead_letters, 'row')} rejected",
                         "detail": "reason and raw row in the table"})
    rows += [_build_row(b) for b in summary.builds if b not in failed_builds]
    rows += [_check_row(o) for o in (gate.outcomes if gate else ()) if o.outcome == "PASSED"]
    if summary.publication:
        outcome = f"publication {summary.publication.id}"
    elif failed_checks or failed_builds:
        outcome = "blocked: nothing was published"
    else:
        outcome = "unchanged"
    rows.append({"step": "publish", "name": "all models", "result": outcome, "detail": str(summary.warehouse)})
    return rows


def _build_row(build: Any) -> dict[str, str]:
    detail = build.relation + (f", {plural(build.rows, 'row')}, {build.seconds:.2f} s" if build.rows is not None
                               else "")
    return {"step": "build", "name": build.model, "result": build.status, "detail": detail}


def _check_row(outcome: Any) -> dict[str, str]:
    column = f" ({outcome.column})" if outcome.column else ""
    return {"step": "check", "name": f"{outcome.model}: {outcome.check}{column}", "result": outcome.outcome,
            "detail": f"measured {outcome.shown_value}, threshold {outcome.threshold or '-'}"}


def failure_details(wh: Any, contracts: dict[str, Contract], builds: list[Any], outcomes: list[Any],
                    refs_of: Any) -> list[FailureDetail]:
    """For each check of `outcomes` (those that did not pass): where the contract says it, the offending values
    and rows in what was verified, and the SQL that finds them. `refs_of(contract)`: the relations its
    ${ref.X} name."""
    verified = {b.model: b.audited for b in builds}
    return [explain(wh, contracts[o.model], o, verified[o.model], refs_of(contracts[o.model]))
            for o in outcomes if o.model in contracts and o.model in verified]


def _detail_markdown(project: Project, detail: FailureDetail) -> str:
    o = detail.outcome
    lines = [f"### {o.model}: {describe(o)}"]
    if detail.where is not None:
        lines.append(f"`{str(detail.where).replace(f'{project.root}/', '')}`")
    if detail.values:
        lines += ["", f"| {o.column} | rows |", "|---|---|",
                  *(f"| {_cell(v)} | {n} |" for v, n in detail.values)]
    if detail.rows:
        lines += ["", f"Up to {len(detail.rows)} of the rows:", "",
                  "| " + " | ".join(detail.columns) + " |", "|" + "---|" * len(detail.columns),
                  *("| " + " | ".join(_cell(v) for v in row) + " |" for row in detail.rows)]
    if detail.sql:
        lines += ["", "Find them all:", "", "```sql", detail.sql, "```"]
    return "\n".join(lines)


def _cell(value: Any) -> str:
    if isinstance(value, datetime):
        value = f"{value:%Y-%m-%d %H:%M:%S}"  # microseconds and offsets made every row too wide to read
    return ("NULL" if value is None else str(value))[:40].replace("|", "\\|").replace("\n", " ")


def report(project: Project, summary: Any, details: list[FailureDetail] | None = None) -> None:
    """The summary table; on a blocked publication, a note saying why (each failed check's offending values,
    rows and SQL) and what to do."""
    create_table_artifact(key=key(project, summary.target, "run-summary"), table=summary_rows(summary),
                          description=f"ELT run of {project.name} on {summary.target}; each check's values over "
                                      "the last runs, and the rows kept of those that did not pass: `elt checks`")
    gate: GateReport | None = summary.gate
    if gate and not gate.passed:
        create_markdown_artifact(
            key=key(project, summary.target, "gate-failed"),
            description=f"Publication blocked: {project.name} on {summary.target}",
            markdown=(f"## Publication blocked: {project.name} on {summary.target}\n\n```\n{gate.explain()}\n```\n\n"
                      + "".join(_detail_markdown(project, d) + "\n\n" for d in details or []) +
                      "The published models still answer as before. Fix the data or the model, or adjust the "
                      "contract in `checks/contracts/` if the expectation was wrong, then run again "
                      "(`elt verify --last-build` checks a contract fix against what this run built). "
                      f"`elt checks {' '.join(sorted({o.model for o in gate.failures}))}` shows these checks over "
                      "the last runs, and the rows kept."))
