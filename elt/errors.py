"""One exception root for everything a user can get wrong; the CLI prints these without a traceback."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Location:
    """Where a problem is: a file, optionally a line/column or a config key."""

    path: Path | str
    line: int | None = None
    col: int | None = None
    key: str | None = None

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}:{self.col or 1}"
        if self.key is not None:
            return f"{self.path}: {self.key}"
        return str(self.path)


class EltError(Exception):
    """Root of every error the toolkit raises on purpose. Rendered as `where: what — what to do`."""

    def __init__(self, message: str, *, where: Location | None = None, hint: str | None = None):
        self.message = message
        self.where = where
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        return f"{text} — {self.hint}" if self.hint else text


class ConfigError(EltError):
    """The project file or a target definition is invalid."""


class ModelError(EltError):
    """A model file cannot be read or parsed."""


class LintError(EltError):
    """Lint found errors; `violations` holds every one of them."""

    def __init__(self, violations: list) -> None:
        self.violations = violations
        lines = "\n".join(str(v) for v in violations)
        super().__init__(f"{len(violations)} lint error(s):\n{lines}")


class CycleError(EltError):
    """Models depend on each other in a loop."""


class CompileError(EltError):
    """A model cannot be carried into the target dialect without changing its meaning."""


class ContractError(EltError):
    """A Soda contract file is invalid (Soda itself ignores many mistakes silently)."""


class GateError(EltError):
    """At least one check did not pass: nothing was published. `summary`: what the run did until then."""

    def __init__(self, message: str, report: object, summary: object | None = None) -> None:
        self.report, self.summary = report, summary
        super().__init__(message)


class BuildError(EltError):
    """At least one model failed to build (or to be verified): nothing was published.

    `builds` and `outcomes` hold what the other models did, for the run's report; `summary`, set by the flow,
    what the whole run did."""

    def __init__(self, message: str, builds: list | None = None, outcomes: list | None = None) -> None:
        self.builds, self.outcomes = builds or [], outcomes or []
        self.summary: object | None = None
        super().__init__(message)


class SourceError(EltError):
    """Extraction or loading of a source failed; its cursor did not move."""


class SchemaFrozenError(SourceError):
    """Data does not fit a resource whose schema is frozen: it fails the same way on every retry."""


class DeadLettersExceeded(SourceError):
    """More rows were rejected than the source's `max_dead_letters` allows; they are loaded already."""


class PublishError(EltError):
    """Publishing, history or rollback cannot proceed."""


class WarehouseBusyError(EltError):
    """Another run holds the warehouse."""
