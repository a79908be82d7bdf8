"""One run per pipeline at a time: dlt's working folder and state are not safe to share (dlt#1102)."""
from __future__ import annotations

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import dlt

from elt import filelock

log = logging.getLogger("elt.sources")


@contextmanager
def pipeline_lock(pipeline: dlt.Pipeline) -> Iterator[None]:
    """A second run of the same pipeline logs who holds it and waits."""
    def wait(holder: str) -> None:
        log.warning("pipeline %s is in use by %s; waiting for it to finish", pipeline.pipeline_name, holder)

    path = Path(pipeline.pipelines_dir) / f"{pipeline.pipeline_name}.lock"
    with filelock.held(path, filelock.me(), wait_seconds=None, on_wait=wait):
        yield
