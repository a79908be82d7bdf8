"""An exclusive kernel file lock that records who holds it, for the messages of those who find it taken.

The kernel releases it when its holder dies, even by SIGKILL: a crashed run never leaves a stale lock. A
holder that ends normally empties the file; one that was killed leaves its name in it, so the next holder
knows it is taking over from a run that did not finish (and says so).
"""
from __future__ import annotations

import fcntl
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

POLL_SECONDS = 0.2


class Busy(Exception):
    """The lock stayed taken for as long as the caller was willing to wait."""

    def __init__(self, holder: str) -> None:
        self.holder = holder
        super().__init__(holder)


def me(who: str = "") -> str:
    return f"{who + ', ' if who else ''}pid {os.getpid()} on {socket.gethostname()}"


@contextmanager
def held(path: Path, holder: str, wait_seconds: float | None = 0,
         on_wait: Callable[[str], None] | None = None) -> Iterator[str | None]:
    """Hold the lock on `path`; yields the holder a killed run left behind (None after a clean release).

    If another process has it: raise `Busy` at once (`wait_seconds=0`), or call `on_wait(its holder)` once
    and wait up to `wait_seconds` (None: for ever), then raise `Busy`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        acquire(lambda: _try_lock(handle), lambda: _read(handle) or "another process", wait_seconds, on_wait)
        left_behind = _read(handle) or None
        _write(handle, holder)
        try:
            yield left_behind
        finally:
            _write(handle, "")
            fcntl.flock(handle, fcntl.LOCK_UN)


def acquire(take: Callable[[], bool], holder: Callable[[], str], wait_seconds: float | None,
            on_wait: Callable[[str], None] | None) -> None:
    """Call `take` until it succeeds; past `wait_seconds` raise `Busy(holder())`. Polls, so a signal or the
    deadline always gets through; `on_wait(holder())` is called once, when the first attempt fails."""
    deadline = None if wait_seconds is None else time.monotonic() + wait_seconds
    waiting = False
    while not take():
        if deadline is not None and time.monotonic() >= deadline:
            raise Busy(holder())
        if not waiting and on_wait:
            on_wait(holder())
        waiting = True
        time.sleep(POLL_SECONDS)


def _try_lock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _read(handle) -> str:
    handle.seek(0)
    return handle.read().strip()


def _write(handle, text: str) -> None:
    handle.seek(0)
    handle.truncate(0)
    handle.write(text)
    handle.flush()
