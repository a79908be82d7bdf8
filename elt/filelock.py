"""An exclusive kernel file lock that records who holds it, for the messages of those who find it taken.

The kernel releases it when its holder dies, even by SIGKILL: a crashed run never leaves a stale lock.
"""
from __future__ import annotations

import fcntl
import os
import socket
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator


def me(who: str = "") -> str:
    return f"{who + ', ' if who else ''}pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def held(path: Path, holder: str, on_busy: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock on `path`. If another process has it, `on_busy(its holder)` runs first: raise to give
    up, return to wait until it is free."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            on_busy(handle.read().strip() or "another process")
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.truncate(0)
        handle.write(holder)
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)
            fcntl.flock(handle, fcntl.LOCK_UN)
