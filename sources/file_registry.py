"""Which files of a file resource are new: each file is known by its path relative to the bucket, its size,
its modification time and a SHA-256 of its content, in the resource's dlt state.

Not by absolute URL nor by a modification-time cursor, which is what dlt's filesystem incremental does: a
project copied elsewhere has other absolute paths, so the files at the cursor came again; a clone (git, or
the git_clone pull step of a deployment) gives every file a new modification time, so all of them came
again. Here a file whose size and mtime are unchanged is skipped without reading it; one whose mtime
changed is read once more and skipped if its content is the same (a clone, a touch); one whose content
changed loads again. The state travels with the load package, so it moves only with the data, and dlt
restores it from the warehouse when the project's `.elt/` folder is absent (a fresh clone).

A file that leaves the bucket is forgotten (the state stays as large as the bucket's listing); put back,
it loads again.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

FILE_LISTING = "_files"  # earlier versions listed files in a resource `<name>_files` holding the mtime cursor


def digest(file: Any) -> str:
    with file.open(compression="disable") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class Registry:
    """The files a resource has loaded: relative path -> [size, mtime (ISO), sha256], kept in `state`."""

    def __init__(self, state: dict, source_state: dict, resource: str) -> None:
        self.state = state
        self.known: dict[str, list] = state.setdefault("files", {})
        self.listed: set[str] = set()
        # Files at or before the cursor of the listing of earlier versions were loaded: keep them loaded.
        legacy = source_state.get("resources", {}).pop(resource + FILE_LISTING, {})
        cursor = legacy.get("incremental", {}).get("modification_date", {}).get("last_value")
        self.legacy_cursor: datetime | None = cursor if not self.known else None

    def is_new(self, file: Any) -> str | None:
        """None when the file was loaded as it is; else its digest, or "" when it must still be computed."""
        path, size, mtime = file["relative_path"], file.get("size_in_bytes"), file["modification_date"]
        self.listed.add(path)
        record = self.known.get(path)
        if record is None and self.legacy_cursor is not None and mtime <= self.legacy_cursor:
            record = [size, mtime.isoformat(), digest(file)]
            self.known[path] = record
        if record is None or record[0] != size:
            return ""
        if record[1] == mtime.isoformat():
            return None
        content = digest(file)
        if content != record[2]:
            return content
        record[1] = mtime.isoformat()  # same content, new mtime: not read again next time
        return None

    def loaded(self, file: Any, content: str) -> None:
        mtime = file["modification_date"].isoformat()
        self.known[file["relative_path"]] = [file.get("size_in_bytes"), mtime, content or digest(file)]

    def close(self) -> None:
        """After the whole listing: forget files that left the bucket; `last_value` is what `elt sources` shows."""
        for path in set(self.known) - self.listed:
            del self.known[path]
        if self.known:
            self.state["last_value"] = max(record[1] for record in self.known.values())
