"""Reading one file of a file source: CSV and Parquet as Arrow batches, JSON lines row by row.

Two kinds of bad input, two answers:
- a row that does not fit (too many or too few CSV fields, an unclosed quote, a value of the wrong type, a
  JSON line that is not an object) is yielded as rejected, with its line, and the file's good rows load;
- a file that is not of its format at all (not Parquet, not UTF-8 text) raises `NotItsFormat`: the source
  names the file and loads none of it.
An empty CSV or JSON lines file (0 bytes, or a CSV with a header only) holds no rows: a legitimate "nothing
to export", loaded as nothing. Parquet writers always write a footer, so a 0-byte Parquet file is broken.

CSV lines are pyarrow's record numbers (the header is line 1): the physical line unless an earlier quoted
value spans lines or blank lines were skipped. JSON lines are exact; Parquet rows have no line.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from sources.validate import Checker

CSV_BLOCK_BYTES = 16 << 20
RAW_TEXT_CHARS = 10_000  # an unclosed quote can take in the rest of a large file: keep a readable start
NOT_UTF8 = "save it as UTF-8 (e.g. iconv -f latin1 -t utf-8 FILE), or move it out of the bucket"
FileRejected = tuple[int | None, Any, str]  # (line, the row or raw text as it arrived, why)
Batches = Iterator[tuple[Any, list[FileRejected]]]  # (good rows: an Arrow table or dicts, rejected rows)


class NotItsFormat(Exception):
    """The whole file cannot be read as its format; `hint` says what to do."""

    def __init__(self, what: str, hint: str) -> None:
        super().__init__(what)
        self.hint = hint


def read_csv(file: Any, checker: Checker, chunk_rows: int) -> Batches:
    if file.get("size_in_bytes") == 0:
        return
    invalid: list[tuple[int, str, str]] = []  # (record number, raw text, reason) as pyarrow meets them
    numbers: list[int] = []  # record numbers of every invalid row so far, in order: they shift later lines

    def keep_invalid(row: Any) -> str:
        reason = f"expected {row.expected_columns} fields, got {row.actual_columns}"
        if "\n" in row.text:  # measured: an unclosed quote takes in every line up to the end of the file
            reason += f"; the row runs over {row.text.count(chr(10)) + 1} lines (an unclosed quote?)"
        invalid.append((row.number, row.text[:RAW_TEXT_CHARS], reason))
        numbers.append(row.number)
        return "skip"

    # Declared columns are read as text and then checked, so one bad value rejects its row, not the file.
    # use_threads=False: pyarrow numbers invalid rows only when it parses serially (measured: None otherwise,
    # and no slower on a 160 MB file).
    options = {"read_options": pacsv.ReadOptions(block_size=CSV_BLOCK_BYTES, use_threads=False),
               "parse_options": pacsv.ParseOptions(invalid_row_handler=keep_invalid),
               "convert_options": pacsv.ConvertOptions(column_types={name: pa.string() for name in
                                                                     checker.spec.columns},
                                                       strings_can_be_null=True)}
    done = 0  # valid rows of earlier batches: with `numbers`, they give a rejected row's line
    with file.open() as handle:
        for batch, last in _with_last(_csv_batches(handle, options)):
            table = pa.Table.from_batches([batch])
            bad: list[FileRejected] = [(number, text, reason) for number, text, reason in invalid]
            invalid.clear()
            if last and _open_quote_at_end(table, file):
                row = table.slice(table.num_rows - 1).to_pylist()[0]
                bad.append((_line(done + table.num_rows - 1, numbers), row,
                            f"unclosed quote: {table.column_names[-1]} runs to the end of the file"))
                table = table.slice(0, table.num_rows - 1)
            good, rejected = checker.table(table)
            bad += [(_line(done + index, numbers), row, reason) for index, row, reason in rejected]
            done += batch.num_rows
            yield good, bad
    if invalid:  # rows after the last good one
        yield pa.table({}), list(invalid)


def _csv_batches(handle: Any, options: dict) -> Iterator[pa.RecordBatch]:
    try:
        for batch in pacsv.open_csv(handle, **options):
            binary = [field.name for field in batch.schema if pa.types.is_binary(field.type)]
            if binary:  # pyarrow infers binary for a column that is not valid UTF-8
                raise NotItsFormat(f"not UTF-8 text (column {binary[0]})", NOT_UTF8)
            yield batch
    except pa.ArrowInvalid as err:
        message = str(err).splitlines()[0]
        if message == "Empty CSV file":  # no header either: nothing to load
            return
        if "invalid UTF8" in message:
            raise NotItsFormat(f"not UTF-8 text ({message})", NOT_UTF8) from err
        raise NotItsFormat(f"cannot be read as CSV ({message})",
                           "fix the file, or declare the column's type in columns so that values that do not "
                           "fit go to dead letters") from err


def _with_last(items: Iterator[Any]) -> Iterator[tuple[Any, bool]]:
    """Each item with whether it is the last: the last batch is checked for an unclosed quote."""
    previous, started = None, False
    for item in items:
        if started:
            yield previous, False
        previous, started = item, True
    if started:
        yield previous, True


def _open_quote_at_end(table: pa.Table, file: Any) -> bool:
    """Measured: an unclosed quote in the last column is no error to pyarrow, the rest of the file becomes
    that value. A closed value ends with the file only if the file ends with its quote."""
    if not table.num_rows or not pa.types.is_string(table.schema.field(table.num_columns - 1).type):
        return False
    value = table.column(table.num_columns - 1)[-1].as_py()
    if not (isinstance(value, str) and value.endswith(("\n", "\r"))):
        return False
    with file.open() as handle:
        handle.seek(max(0, file["size_in_bytes"] - 3))
        return not handle.read().rstrip(b"\r\n").endswith(b'"')


def _line(index: int, invalid_numbers: list[int]) -> int:
    """The record number of the `index`-th valid row (0-based): after the header and the invalid rows before it."""
    line = index + 2
    for number in invalid_numbers:
        if number > line:
            break
        line += 1
    return line


def read_parquet(file: Any, checker: Checker, chunk_rows: int) -> Batches:
    with file.open() as handle:
        try:
            for batch in pq.ParquetFile(handle).iter_batches(batch_size=chunk_rows):
                good, rejected = checker.table(pa.Table.from_batches([batch]))
                yield good, [(None, row, reason) for _, row, reason in rejected]
        except (pa.ArrowInvalid, OSError) as err:
            raise NotItsFormat(f"not a Parquet file ({str(err).splitlines()[0]})",
                               "replace it with a complete Parquet file, or move it out of the bucket") from err


def read_jsonl(file: Any, checker: Checker, chunk_rows: int) -> Batches:
    good: list = []
    bad: list[FileRejected] = []
    with file.open() as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise NotItsFormat(f"line {number} is not UTF-8 text ({err.reason} at byte {err.start})",
                                   NOT_UTF8) from err
            if not line.strip():
                continue
            try:
                rows, rejected = checker.rows([json.loads(line)])
            except json.JSONDecodeError as err:
                rows, rejected = [], [(line.rstrip("\r\n")[:RAW_TEXT_CHARS], f"not JSON ({err.msg})")]
            good += rows
            bad += [(number, row, reason) for row, reason in rejected]
            if len(good) + len(bad) >= chunk_rows:
                yield good, bad
                good, bad = [], []
    if good or bad:
        yield good, bad


READERS: dict[str, Callable[[Any, Checker, int], Batches]] = {
    "csv": read_csv, "parquet": read_parquet, "jsonl": read_jsonl}
