"""One run per pipeline at a time: dlt's working folder and state are not safe to share (dlt#1102)."""
from __future__ import annotations

import fcntl
import logging
import os
import socket
from contextlib import contextmanager
from typing import Iterator

import dlt

log = logging.getLogger("elt.sources")


@contextmanager
def pipeline_lock(pipeline: dlt.Pipeline) -> Iterator[None]:
    """A kernel file lock, so a run killed with SIGKILL releases it; a second run logs the holder and waits."""
    path = f"{pipeline.pipelines_dir}/{pipeline.pipeline_name}.lock"
    os.makedirs(pipeline.pipelines_dir, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            log.warning("pipeline %s is in use by %s; waiting for it to finish", pipeline.pipeline_name,
                        handle.read().strip() or "another process")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
