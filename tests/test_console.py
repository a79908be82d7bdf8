"""What `elt` writes for a person: load progress in the toolkit's words, colour and one live line in a terminal,
plain lines elsewhere, and no per-task "Completed" repetition."""
from __future__ import annotations

import io
import logging
from pathlib import Path

import dlt
import pytest

from elt_cli.console import CLEAR_LINE, ConsoleHandler
from sources.progress import LoadProgress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def record(message: str, name: str = "elt.flow", level: int = logging.INFO, **extra) -> logging.LogRecord:
    made = logging.LogRecord(name, level, __file__, 1, message, (), None)
    made.__dict__.update(extra)
    return made


def test_a_load_reports_rows_so_far_and_the_rate_in_its_own_words(tmp_path: Path, caplog):
    """A real dlt pipeline with the collector reporting at every count (period 0; a run's is 10 s)."""
    pipeline = dlt.pipeline(pipeline_name="progress", destination=dlt.destinations.duckdb(str(tmp_path / "wh.duckdb")),
                            dataset_name="raw_demo", pipelines_dir=str(tmp_path / "dlt"),
                            progress=LoadProgress("demo", period=0.0))

    @dlt.resource
    def numbers():
        for _ in range(3):
            yield [{"n": i} for i in range(1000)]

    with caplog.at_level(logging.INFO, logger="elt.progress"):
        pipeline.run(numbers())
    lines = [r.getMessage() for r in caplog.records if r.name == "elt.progress"]
    assert all(getattr(r, "elt_progress", False) for r in caplog.records if r.name == "elt.progress")
    assert "extract demo: 3,000 rows so far (numbers 3,000)" in "\n".join(lines)
    assert any(line.endswith("rows/s") for line in lines)
    assert any(line.startswith("load demo: ") and " jobs" in line for line in lines)
    assert not [line for line in lines if "_dlt" in line or ": 0 rows so far" in line]


def test_a_terminal_gets_colour_and_one_progress_line_that_the_next_record_replaces(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    screen = Terminal()
    handler = ConsoleHandler(screen)
    handler.handle(record("extract shop: 1,000 rows so far", elt_progress=True))
    assert screen.getvalue() == f"{CLEAR_LINE}extract shop: 1,000 rows so far"  # no newline: the next replaces it
    handler.handle(record("source shop: 2,000 rows loaded"))
    handler.handle(record("published without a contract: x", level=logging.WARNING))
    handler.handle(record("Finished in state Completed()", name="prefect.task_runs", task_run_name="build-orders"))
    handler.handle(record("Finished in state Failed('boom')", name="prefect.task_runs", task_run_name="build-x"))
    shown = screen.getvalue()
    assert shown.count(CLEAR_LINE) == 2 and "source shop: 2,000 rows loaded\n" in shown
    assert "\x1b[33mpublished without a contract: x" in shown  # a warning in yellow
    assert "build-orders" not in shown and "build-x: Finished in state Failed('boom')" in shown


@pytest.mark.parametrize("terminal", [False, True])
def test_elsewhere_every_record_is_one_plain_line(monkeypatch, terminal: bool):
    """A pipe or a CI log (and NO_COLOR in a terminal): no escape codes, progress lines kept as lines."""
    monkeypatch.setenv("NO_COLOR", "1")
    stream = Terminal() if terminal else io.StringIO()
    handler = ConsoleHandler(stream)
    handler.handle(record("extract shop: 1,000 rows so far", elt_progress=True))
    handler.handle(record("careful", level=logging.WARNING))
    assert stream.getvalue() == "extract shop: 1,000 rows so far\ncareful\n"
