"""Bad input files through the real `elt extract`: rows that do not fit go to dead letters with their file
and line while the file's good rows load; a file that is not of its format is one error naming it, and the
warehouse is byte-for-byte unchanged (the source's other files wait too, so none is skipped or doubled)."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.bad_input import assert_clear_error, elt, warehouse_digest
from tests.helpers import query, source_project

SOURCE = '''
[sources.drops]
kind = "filesystem"
bucket_url = "inbox"

[sources.drops.resources.scores]
glob = "scores/*.csv"
columns = { id = "bigint", name = "text" }

[sources.drops.resources.clicks]
glob = "clicks/*.jsonl"
columns = { id = "bigint" }

[sources.drops.resources.sales]
glob = "sales/*.parquet"
'''
GOOD = {"scores/good.csv": b"id,name\n1,ann\n2,bob\n", "clicks/good.jsonl": b'{"id": 1}\n'}

# name, files to write (relative to the bucket), rows expected in scores, dead letters (file, line, reason, raw)
ROW_CASES = [
    ("too_many_fields", {"scores/b.csv": b"id,name\n3,cy\n4,di,extra\n5,ed\n"}, 4,
     [("scores/b.csv", 3, "expected 2 fields, got 3", "4,di,extra")]),
    ("too_few_fields", {"scores/b.csv": b"id,name\n3\n4,di\n"}, 3,
     [("scores/b.csv", 2, "expected 2 fields, got 1", "3")]),
    ("line_after_an_invalid_row", {"scores/b.csv": b"id,name\n3,cy,x\n4,di\nfive,ed\n"}, 3,
     [("scores/b.csv", 2, "expected 2 fields, got 3", "3,cy,x"),
      ("scores/b.csv", 4, "id: expected an integer, got 'five'", {"id": "five", "name": "ed"})]),
    ("unclosed_quote_in_a_middle_field", {"scores/b.csv": b'id,name\n3,cy\n"4,di\n5,ed\n'}, 3,
     [("scores/b.csv", 3, "expected 2 fields, got 1; the row runs over 2 lines (an unclosed quote?)",
       '"4,di\n5,ed')]),
    ("unclosed_quote_in_the_last_field", {"scores/b.csv": b'id,name\n3,cy\n4,"di\n5,ed\n'}, 3,
     [("scores/b.csv", 3, "unclosed quote: name runs to the end of the file", {"id": "4", "name": "di\n5,ed\n"})]),
    ("a_quoted_line_break_is_a_value", {"scores/b.csv": b'id,name\n3,"c\ny"\n'}, 3, []),
    ("header_only_csv", {"scores/b.csv": b"id,name\n"}, 2, []),
    ("empty_csv", {"scores/b.csv": b""}, 2, []),
    ("empty_jsonl", {"clicks/b.jsonl": b""}, 2, []),
    ("jsonl_array_and_number", {"clicks/b.jsonl": b'{"id": 2}\n[1, 2]\n42\n'}, 2,
     [("clicks/b.jsonl", 2, "expected a JSON object, got list", [1, 2]),
      ("clicks/b.jsonl", 3, "expected a JSON object, got int", 42)]),
    ("jsonl_not_json", {"clicks/b.jsonl": b'{"id": 2}\n{"id": \n'}, 2,
     [("clicks/b.jsonl", 2, "not JSON (Expecting value)", '{"id": ')]),
]

# name, files to write, texts of the error line
FILE_CASES = [
    ("latin1_csv_declared", {"scores/b.csv": "id,name\n3,caf\xe9\n".encode("latin-1")},
     ("source drops: scores/b.csv (resource scores): not UTF-8 text", "iconv")),
    ("latin1_csv_inferred", {"sales/x.parquet": None, "scores/b.csv": None,
                             "other/b.csv": "id,town\n3,Z\xfcrich\n".encode("latin-1")},
     ("other/b.csv (resource other): not UTF-8 text", "iconv")),
    ("latin1_jsonl", {"clicks/b.jsonl": '{"id": 2}\n{"id": 3, "n": "caf\xe9"}\n'.encode("latin-1")},
     ("clicks/b.jsonl (resource clicks): line 2 is not UTF-8 text",)),
    ("not_parquet", {"sales/b.parquet": b"id,total\n1,2\n"},
     ("sales/b.parquet (resource sales): not a Parquet file", "move it out of the bucket")),
    ("empty_parquet", {"sales/b.parquet": b""}, ("sales/b.parquet (resource sales): not a Parquet file",)),
    ("truncated_parquet", {"sales/b.parquet": "TRUNCATE"}, ("sales/b.parquet (resource sales): not a Parquet file",)),
]


def write_files(inbox: Path, files: dict[str, bytes | str | None]) -> None:
    for name, content in files.items():
        path = inbox / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == "TRUNCATE":
            pq.write_table(pa.table({"id": list(range(100))}), path)
            path.write_bytes(path.read_bytes()[:-20])
        elif content is not None:
            path.write_bytes(content)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = source_project(tmp_path / "p", SOURCE)
    write_files(project / "inbox", GOOD)
    (project / "inbox" / "sales").mkdir()
    pq.write_table(pa.table({"id": [1, 2], "total": [1.5, 2.5]}), project / "inbox" / "sales" / "good.parquet")
    return project


@pytest.mark.parametrize("name, files, scores, letters", ROW_CASES, ids=[case[0] for case in ROW_CASES])
def test_rows_that_do_not_fit_are_dead_letters(project: Path, name: str, files: dict, scores: int,
                                               letters: list) -> None:
    write_files(project / "inbox", files)
    result = elt(project, "extract", "drops")
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(project, "select count(*) from raw_drops.scores")[0][0] == scores
    found = []
    if letters:
        found = [(file, line, reason, json.loads(raw)) for file, line, reason, raw in query(
            project, "select file, line, reason, raw_row from raw_drops._dead_letters order by file, line")]
    assert found == letters
    again = elt(project, "extract", "drops")
    assert "raw_drops: nothing new" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize("name, files, texts", FILE_CASES, ids=[case[0] for case in FILE_CASES])
def test_a_file_not_of_its_format_is_one_error_and_loads_nothing(project: Path, name: str, files: dict,
                                                                 texts: tuple[str, ...]) -> None:
    if name == "latin1_csv_inferred":  # a resource without declared columns: pyarrow infers the types
        with (project / "elt.toml").open("a") as config:
            config.write('\n[sources.drops.resources.other]\nglob = "other/*.csv"\n')
    first = elt(project, "extract", "drops")
    assert first.returncode == 0, first.stdout + first.stderr
    write_files(project / "inbox", {"scores/new.csv": b"id,name\n9,new\n"})  # a good file of the same run
    before = warehouse_digest(project / "warehouse.duckdb")
    write_files(project / "inbox", files)
    result = elt(project, "extract", "drops")
    assert_clear_error(result, *texts)
    assert warehouse_digest(project / "warehouse.duckdb") == before
    for name_ in files:  # fixed (moved away), the next run loads the waiting good file exactly once
        (project / "inbox" / name_).unlink(missing_ok=True)
    assert elt(project, "extract", "drops").returncode == 0
    assert query(project, "select count(*), count(distinct id) from raw_drops.scores") == [(3, 3)]


def test_a_missing_bucket_folder_names_the_key_and_the_path(tmp_path: Path) -> None:
    project = source_project(tmp_path / "p", SOURCE.replace('"inbox"', '"inbxo"'))
    # the CLI shows paths under the current folder relative to it
    assert_clear_error(elt(project, "extract", "drops"), "sources.drops.bucket_url", "the folder inbxo does not exist")
    assert_clear_error(elt(project.parent, "--project", "p", "extract", "drops"), "the folder p/inbxo does not exist")
