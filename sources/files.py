"""File sources: a local folder or bucket URL (fsspec, as dlt's filesystem source), each file loaded once
(sources/file_registry.py), read as Arrow batches of `chunk_rows` rows (CSV, Parquet) or JSON lines
(sources/file_formats.py) and checked against the declared columns.

Rows that do not fit go to dead letters with their file and line. A file that is not of its format fails the
source's run with one error naming it: nothing of that run is loaded and no file is marked as loaded, so
the next run (with the file fixed or moved away) loads every file exactly once.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import dlt
from dlt.common.storages.fsspec_filesystem import FileItemDict, fsspec_filesystem, glob_files

from elt.config import Source
from elt.errors import SourceError
from elt.source_config import Resource
from sources.dead_letters import DeadLetters
from sources.file_formats import READERS, NotItsFormat
from sources.file_registry import FILE_LISTING, Registry
from sources.hints import hints
from sources.validate import Checker

__all__ = ["FILE_LISTING", "files_source"]


def files_source(source: Source, letters: DeadLetters) -> Any:
    fs = fsspec_filesystem(source.options["bucket_url"])[0]
    resources = [dlt.resource(_rows(source, spec, fs, letters), name=spec.name, **hints(spec))
                 for spec in source.options["resources"].values()]
    return dlt.source(lambda: [*resources, letters.resource()], name=source.name)()


def _rows(source: Source, spec: Resource, fs: Any, letters: DeadLetters) -> Any:
    read = READERS[spec.options["format"]]
    checker = Checker(letters.source, spec)
    bucket_url, chunk_rows = source.options["bucket_url"], source.options["chunk_rows"]

    def rows() -> Iterator[Any]:
        _require_folder(source)
        registry = Registry(dlt.current.resource_state(), dlt.current.source_state(), spec.name)
        for item in glob_files(fs, bucket_url, spec.options["glob"]):
            file = FileItemDict(item, fs)
            content = registry.is_new(file)
            if content is None:
                continue
            try:
                for good, bad in read(file, checker, chunk_rows):
                    if len(good):
                        yield good
                    if bad:
                        letters.add(spec.name, [(row, reason) for _, row, reason in bad],
                                    file=file["relative_path"], lines=[line for line, _, _ in bad])
            except NotItsFormat as err:
                raise SourceError(
                    f"source {source.name}: {file['relative_path']} (resource {spec.name}): {err}",
                    hint=f"{err.hint}; nothing of this run was loaded and no file is marked loaded "
                         f"(bucket {bucket_url})") from err
            registry.loaded(file, content)
        registry.close()
    return rows


def _require_folder(source: Source) -> None:
    """dlt lists a missing local folder as empty: a typo would read as "nothing new" for ever."""
    url = urlsplit(source.options["bucket_url"])
    if url.scheme == "file" and not Path(unquote(url.path)).is_dir():
        raise SourceError(f"source {source.name}: sources.{source.name}.bucket_url: the folder "
                          f"{unquote(url.path)} does not exist",
                          hint="create it, or fix bucket_url in elt.toml (a relative path is relative to the "
                               "project folder)")
