"""The gate: publication proceeds only if every check of every contract PASSED.

NOT_EVALUATED and ERROR fail the gate: Soda reports them as ok, which would let an
unchecked candidate through. WARN passes only for checks declared with `level: warn`.
"""
from __future__ import annotations

from dataclasses import dataclass

from checks.verify import CheckOutcome


@dataclass(frozen=True)
class GateReport:
    outcomes: tuple[CheckOutcome, ...]

    @property
    def passed(self) -> bool:
        return all(o.passed for o in self.outcomes)

    @property
    def failures(self) -> list[CheckOutcome]:
        return [o for o in self.outcomes if not o.passed]

    @property
    def warnings(self) -> list[CheckOutcome]:
        """Checks declared `level: warn` that did not pass: they let the publication through, and are reported."""
        return [o for o in self.outcomes if o.passed and o.outcome != "PASSED"]

    @property
    def summary(self) -> dict[str, int]:
        return {"checks": len(self.outcomes), "passed": sum(o.passed for o in self.outcomes),
                "failed": len(self.failures)}

    def explain(self) -> str:
        """One line per blocking check: model, check, column, measured value, threshold, outcome."""
        lines = [f"gate failed: {len(self.failures)} of {len(self.outcomes)} check(s) did not pass; "
                 "nothing was published"]
        lines += [f"  {o.model}: {describe(o)}" for o in self.failures]
        return "\n".join(lines)


def describe(o: CheckOutcome) -> str:
    """`invalid on status: FAILED, measured 3, threshold = 0`."""
    column = f" on {o.column}" if o.column else ""
    return f"{o.check}{column}: {o.outcome}, measured {o.shown_value}, threshold {o.threshold or '-'}"


def decide(outcomes: list[CheckOutcome]) -> GateReport:
    return GateReport(tuple(outcomes))
