"""How `elt` writes to a person: colour where a terminal is, progress on one line, no per-task repetition.

Log records go to stderr, results to stdout. In a terminal (unless NO_COLOR is set) records are coloured by
level, and progress records (`elt_progress`, e.g. rows so far of a long load) share one line that the next
record replaces; elsewhere (pipes, CI logs, files) every record is one plain line. Prefect's "Finished in
state Completed()" of each task is left out: the flow's own line stays, and a task that ended otherwise is
always shown.
"""
from __future__ import annotations

import logging
import os
import sys
from typing import TextIO

from rich.console import Console
from rich.text import Text

LEVEL_STYLES = {logging.WARNING: "yellow", logging.ERROR: "bold red", logging.CRITICAL: "bold red"}
RESULT_STYLES = {"published": "green", "blocked": "bold red", "error": "bold red", "interrupted": "yellow",
                 "warned": "yellow"}
CLEAR_LINE = "\r\x1b[2K"


def colour(stream: TextIO) -> bool:
    return stream.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


class RunFormatter(logging.Formatter):
    """Prefix Prefect's run records with the run's name (`build-orders: Finished in state Failed(...)`)."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        name = getattr(record, "task_run_name", None) or getattr(record, "flow_run_name", None)
        return f"{name}: {text}" if name else text


class ConsoleHandler(logging.Handler):
    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__()
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, highlight=False, soft_wrap=True) if colour(self.stream) else None
        self.pending = False  # a progress line is on screen, without its newline
        self.setFormatter(RunFormatter("%(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        if _routine_task_end(record):
            return
        try:
            text = self.format(record)
            if self.console is None:
                self.stream.write(text + "\n")
                self.stream.flush()
            elif getattr(record, "elt_progress", False):
                self.stream.write(f"{CLEAR_LINE}{text[:self.console.width - 1]}")
                self.stream.flush()
                self.pending = True
            else:
                self.end_progress()
                self.console.print(Text(text, style=LEVEL_STYLES.get(record.levelno, "")))
        except Exception:  # a log line must never end the run
            self.handleError(record)

    def end_progress(self) -> None:
        if self.pending:
            self.stream.write(CLEAR_LINE)
            self.pending = False


def _routine_task_end(record: logging.LogRecord) -> bool:
    return record.name == "prefect.task_runs" and record.getMessage().startswith("Finished in state Completed")


def result(line: str, stream: TextIO | None = None) -> None:
    """A result line on stdout (`published publication 2: ...`), coloured by its first word in a terminal."""
    stream = stream or sys.stdout
    if not colour(stream):
        print(line, file=stream, flush=True)
        return
    word = line.split(maxsplit=1)[0].rstrip(":") if line.strip() else ""
    Console(file=stream, highlight=False, soft_wrap=True).print(Text(line, style=RESULT_STYLES.get(word, "")))
