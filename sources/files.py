"""File sources: a local folder or bucket URL through dlt's filesystem source, each file loaded once
(incremental on its modification time), read as Arrow batches of `chunk_rows` rows (CSV, Parquet) or
JSON lines, and checked against the declared columns."""
from __future__ import annotations

import json
from typing import Any, Iterator

import dlt
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from dlt.sources.filesystem import filesystem

from elt.config import Source
from elt.source_config import Resource
from sources.dead_letters import DeadLetters
from sources.hints import hints
from sources.validate import Checker

CSV_BLOCK_BYTES = 16 << 20
FILE_LISTING = "_files"  # suffix of the resource listing a file resource's files (it holds the mtime cursor)


def files_source(source: Source, letters: DeadLetters) -> Any:
    opts = source.options
    resources = []
    for spec in opts["resources"].values():
        listing = filesystem(bucket_url=opts["bucket_url"], file_glob=spec.options["glob"])
        listing = listing.with_name(spec.name + FILE_LISTING)
        listing.apply_hints(incremental=dlt.sources.incremental("modification_date"))
        reader = dlt.transformer(_reader(spec, opts["chunk_rows"], letters), name=spec.name, **hints(spec))
        resources.append(listing | reader)
    return dlt.source(lambda: [*resources, letters.resource()], name=source.name)()


def _reader(spec: Resource, chunk_rows: int, letters: DeadLetters) -> Any:
    read = {"csv": _csv, "parquet": _parquet, "jsonl": _jsonl}[spec.options["format"]]
    checker = Checker(letters.source, spec)

    def rows(files: list) -> Iterator[Any]:
        for file in files:
            with file.open() as handle:
                for good, bad in read(handle, checker, chunk_rows):
                    if len(good):
                        yield good
                    letters.add(spec.name, [(row | {"_file": file["file_name"]}, reason) for row, reason in bad])
    return rows


def _csv(handle: Any, checker: Checker, chunk_rows: int) -> Iterator[tuple[pa.Table, list]]:
    # Declared columns are read as text and then checked, so one bad value rejects its row, not the file.
    convert = pacsv.ConvertOptions(column_types={name: pa.string() for name in checker.spec.columns},
                                   strings_can_be_null=True)
    reader = pacsv.open_csv(handle, read_options=pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES),
                            convert_options=convert)
    for batch in reader:
        yield checker.table(pa.Table.from_batches([batch]))


def _parquet(handle: Any, checker: Checker, chunk_rows: int) -> Iterator[tuple[pa.Table, list]]:
    for batch in pq.ParquetFile(handle).iter_batches(batch_size=chunk_rows):
        yield checker.table(pa.Table.from_batches([batch]))


def _jsonl(handle: Any, checker: Checker, chunk_rows: int) -> Iterator[tuple[list, list]]:
    good: list = []
    bad: list = []
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            rows, rejected = checker.rows([json.loads(line)])
        except json.JSONDecodeError as err:
            rows, rejected = [], [({"line": number, "text": line.decode("utf-8", "replace")[:1000]},
                                   f"line {number}: not JSON ({err.msg})")]
        good += rows
        bad += rejected
        if len(good) + len(bad) >= chunk_rows:
            yield good, bad
            good, bad = [], []
    if good or bad:
        yield good, bad
