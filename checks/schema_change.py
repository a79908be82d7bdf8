"""Schema change: a new version's columns against the version published now, for every published model.

Consumers read the published names; a column that disappears or changes type under them breaks their
queries. So removing or retyping a published column fails the gate unless the model's header says
`-- schema_change: allow`; an added column passes and is reported. A version with the published columns
(or a first publication) adds no check: the gate reports changes, not their absence.
"""
from __future__ import annotations

from checks.verify import CheckOutcome
from elt.warehouse import Warehouse

CHECK = "schema_change"


def schema_change(wh: Warehouse, model: str, candidate: str, published: str | None,
                  allow: bool) -> CheckOutcome | None:
    """The outcome of `candidate`'s columns against `published`'s; None when they are the same."""
    if published is None or published == candidate:
        return None
    new, old = _columns(wh, candidate), _columns(wh, published)
    removed = [c for c in old if c not in new]
    retyped = [f"{c} ({old[c]} -> {new[c]})" for c in old if c in new and new[c] != old[c]]
    added = [c for c in new if c not in old]
    changes = [f"{label}: {', '.join(names)}" for label, names in
               (("removed", removed), ("retyped", retyped), ("added", added)) if names]
    if not changes:
        return None
    breaking = len(removed) + len(retyped)
    rule = "removed or retyped columns allowed (schema_change: allow)" if allow else "no removed or retyped column"
    return CheckOutcome(model, CHECK, None, "FAILED" if breaking and not allow else "PASSED", breaking,
                        f"{rule}; {'; '.join(changes)}")


def _columns(wh: Warehouse, relation: str) -> dict[str, str]:
    schema, name = relation.split(".")
    rows = wh.execute("select column_name, data_type from information_schema.columns where table_schema = ? "
                      "and table_name = ? order by ordinal_position", [schema, name]).fetchall()
    return {column.lower(): str(kind).lower() for column, kind in rows}
