"""Volume change: the candidate's row count against the version published now, which Soda cannot see.

A contract opts in with `elt: {volume_change: 0.2}`; the check then fails a candidate whose row count moved
more than ±20 % from the published version's, and shows both counts. A first publication has nothing to
compare with: it passes and says so.
"""
from __future__ import annotations

from checks.verify import CheckOutcome
from elt.warehouse import Warehouse

CHECK = "volume_change"


def volume_change(wh: Warehouse, model: str, candidate: str, published: str | None,
                  max_change: float) -> CheckOutcome:
    """`candidate` (the whole new version) against `published` (the version in effect, None if none)."""
    rows = _count(wh, candidate)
    limit = f"|change| <= {max_change:g}"
    if published is None:
        return CheckOutcome(model, CHECK, None, "PASSED", None,
                            f"{limit}; first publication ({rows} rows): nothing to compare with")
    before = _count(wh, published)
    change = (rows - before) / before if before else (0.0 if rows == 0 else float("inf"))
    return CheckOutcome(model, CHECK, None, "PASSED" if abs(change) <= max_change else "FAILED", round(change, 4),
                        f"{limit} ({before} rows published, {rows} now)")


def _count(wh: Warehouse, relation: str) -> int:
    return int(wh.execute(f"select count(*) from {relation}").fetchone()[0])
