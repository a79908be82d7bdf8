"""Dead letters: rows a resource rejected, kept in `<dataset>._dead_letters` with the reason.

Rows of files also say where they came from: the file (relative to the bucket) and its line.
Resources hand their rejected rows to a `DeadLetters` collector; its resource runs after every other
resource of the source (dlt's "fifo" order, set in sources/__init__.py), so the rejected rows travel in the
same load package as the good rows and the cursor: committed together, or not at all.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterator, Sequence

import dlt

from sources.validate import Rejected

DEAD_LETTERS = "_dead_letters"
COLUMNS = {
    "source": {"data_type": "text", "nullable": False},
    "resource": {"data_type": "text", "nullable": False},
    "seq": {"data_type": "bigint", "nullable": False},  # position in its load: the key for exactly-once
    "raw_row": {"data_type": "text", "nullable": False},
    "reason": {"data_type": "text", "nullable": False},
    "file": {"data_type": "text", "nullable": True},  # file sources: the path relative to the bucket
    "line": {"data_type": "bigint", "nullable": True},  # and the line the row starts on (CSV: see files.py)
    "run_id": {"data_type": "text", "nullable": True},
    "rejected_at": {"data_type": "timestamp", "nullable": False},
}


class DeadLetters:
    def __init__(self, source: str, run_id: str | None) -> None:
        self.source, self.run_id = source, run_id
        self.pending: list[dict] = []
        self.count = 0

    def add(self, resource: str, rejected: list[Rejected], file: str | None = None,
            lines: Sequence[int | None] = ()) -> None:
        now = datetime.now(timezone.utc)
        lines = lines or [None] * len(rejected)
        self.pending += [{"source": self.source, "resource": resource, "seq": self.count + n, "reason": reason,
                          "run_id": self.run_id, "raw_row": json.dumps(row, default=str, sort_keys=True),
                          "file": file, "line": line, "rejected_at": now}
                         for n, ((row, reason), line) in enumerate(zip(rejected, lines, strict=True), start=1)]
        self.count += len(rejected)

    def resource(self) -> Any:
        def rows() -> Iterator[list[dict]]:
            while self.pending:
                batch, self.pending = self.pending, []
                yield batch
        return dlt.resource(rows, name=DEAD_LETTERS, write_disposition="append", columns=COLUMNS,
                            schema_contract="evolve")
