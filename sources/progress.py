"""Progress of a load in the toolkit's words, in place of dlt's text blocks.

dlt's log collector writes a block of counters (with dlt's internal `_dlt_pipeline_state` and load ids)
at the start and end of every step and every 10 s, so a quick load printed eight blocks. This collector
counts the same events and says little: that each step (extract, normalize, load) started and, only
while one runs long, every `period` seconds a line with rows (or files, or jobs) so far and the rate. The
load's result is reported once, by its caller.
Records carry `elt_progress=True`, so a terminal can show them on one line that the next replaces.
"""
from __future__ import annotations

import logging
import time
from collections import defaultdict

from dlt.common.runtime.collector_base import Collector

log = logging.getLogger("elt.progress")
STEP_UNITS = {"extract": "rows", "normalize": "files", "load": "jobs"}  # what a step's counters count
# dlt's counters that are not rows of a table: resources started, files, jobs, and its own state table
BOOKKEEPING = ("Resources", "Files", "Jobs", "Items", "_dlt_pipeline_state")


class LoadProgress(Collector):
    def __init__(self, source: str, period: float = 10.0) -> None:
        self.source, self.period = source, period
        self.counts: dict[str, int] = defaultdict(int)
        self.totals: dict[str, int] = {}
        self.started = self.last = 0.0
        self.step = ""
        self.begun: set[str] = set()  # the steps that said they started

    def update(self, name: str, inc: int = 1, total: int | None = None, inc_total: int | None = None,
               message: str | None = None, label: str | None = None) -> None:
        if label:
            return  # sub-counters ("Completed", "Failed") of a counter already counted
        self.counts[name] += inc
        if total is not None:
            self.totals[name] = total
        elif inc_total:
            self.totals[name] = self.totals.get(name, 0) + inc_total
        now = time.monotonic()
        if now - self.last >= self.period:
            line = self.line(now)
            if line:
                self.last = now
                log.info("%s", line, extra={"elt_progress": True})

    def line(self, now: float) -> str:
        """`extract shop: 1,234,567 rows (orders 1,000,000, payments 234,567), 123,456 rows/s`; empty before a
        step has counted anything."""
        kind = self.step.split()[0].lower() if self.step else "load"
        elapsed = max(now - self.started, 1e-9)
        if STEP_UNITS.get(kind) == "rows":
            tables = {n: c for n, c in self.counts.items() if n not in BOOKKEEPING}
            rows = sum(tables.values())
            if not rows:
                return ""
            parts = ", ".join(f"{n} {c:,}" for n, c in sorted(tables.items()))
            return f"{kind} {self.source}: {rows:,} rows so far ({parts}), {rows / elapsed:,.0f} rows/s"
        unit = STEP_UNITS.get(kind, "items")
        name = unit.capitalize()
        done, total = self.counts.get(name, 0), self.totals.get(name)
        return f"{kind} {self.source}: {done:,}{f' of {total:,}' if total else ''} {unit}, {elapsed:.0f} s"

    def _start(self, step: str) -> None:
        self.step, self.counts, self.totals = step, defaultdict(int), {}
        self.started = time.monotonic()
        self.last = self.started  # the next line after `period` seconds: a quick step says nothing more
        kind = step.split()[0].lower() if step else ""
        if kind and kind not in self.begun:  # dlt extracts its own state in a second step: one line each
            self.begun.add(kind)
            log.info("%s %s: started", kind, self.source, extra={"elt_progress": True})

    def _stop(self) -> None:
        self.step = ""
