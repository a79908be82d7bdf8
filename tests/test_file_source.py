"""File sources on a real folder: CSV, JSON lines and Parquet, each file loaded once, bad rows to dead
letters, frozen schemas; and a custom Python source declared with kind = "python"."""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from elt.errors import SchemaFrozenError
from tests.helpers import extract, query, source_project

DROPS = '''
[sources.drops]
kind = "filesystem"
bucket_url = "inbox"

[sources.drops.resources.scores]
glob = "scores/*.csv"
primary_key = "id"
columns = { id = "bigint", name = "text", score = "double", seen_at = "timestamp" }
{scores}

[sources.drops.resources.clicks]
glob = "clicks/*.jsonl"
columns = { id = "bigint", url = "text" }
required = ["url"]

[sources.drops.resources.sales]
glob = "sales/*.parquet"
'''


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def drops(tmp_path: Path) -> Path:
    project = source_project(tmp_path / "p", DROPS.replace("{scores}", ""))
    inbox = project / "inbox"
    write(inbox / "scores" / "a.csv", "id,name,score,seen_at\n1,ann,1.5,2026-01-01T00:00:00Z\n"
                                      "2,bob,x,2026-01-02T00:00:00Z\n3,cy,2.5,yesterday\n4,di,,\n")
    write(inbox / "clicks" / "a.jsonl", '{"id": 1, "url": "/a"}\n{"id": "two", "url": "/b"}\n{"id": 3}\n'
                                        '{not json\n{"id": 5, "url": "/e"}\n')
    (inbox / "sales").mkdir(parents=True)
    pq.write_table(pa.table({"id": [1, 2, 3], "total": [9.5, 1.0, 3.25]}), inbox / "sales" / "jan.parquet")
    return project


def test_each_format_loads_and_bad_rows_become_dead_letters(drops: Path) -> None:
    result = extract(drops, "drops")
    assert result.rows == {"scores": 2, "clicks": 2, "sales": 3} and result.dead_letters == 5
    assert query(drops, "select id, score from raw_drops.scores order by id") == [(1, 1.5), (4, None)]
    letters = query(drops, "select resource, file, line, reason, raw_row from raw_drops._dead_letters "
                           "order by resource, line")
    assert [r[:4] for r in letters] == [
        ("clicks", "clicks/a.jsonl", 2, "id: expected an integer, got 'two'"),
        ("clicks", "clicks/a.jsonl", 3, "missing required key 'url'"),
        ("clicks", "clicks/a.jsonl", 4, "not JSON (Expecting property name enclosed in double quotes)"),
        ("scores", "scores/a.csv", 3, "score: expected a number, got 'x'"),
        ("scores", "scores/a.csv", 4, "seen_at: expected an ISO timestamp, got 'yesterday'"),
    ]
    assert json.loads(letters[2][4]) == "{not json"
    assert json.loads(letters[3][4]) == {"id": "2", "name": "bob", "score": "x", "seen_at": "2026-01-02T00:00:00Z"}


def test_each_file_is_loaded_once(drops: Path) -> None:
    extract(drops, "drops")
    assert extract(drops, "drops").rows == {}
    time.sleep(0.01)
    write(drops / "inbox" / "scores" / "b.csv", "id,name,score,seen_at\n7,eve,3,2026-01-03T00:00:00Z\n")
    assert extract(drops, "drops").rows == {"scores": 1}
    # a file rewritten later is loaded again; the primary key keeps one row per id
    changed = drops / "inbox" / "scores" / "b.csv"
    changed.write_text("id,name,score,seen_at\n7,eve,4,2026-01-03T00:00:00Z\n")
    os.utime(changed, (time.time() + 5, time.time() + 5))
    assert extract(drops, "drops").rows == {"scores": 1}
    # ids 1 and 4 (no score) from a.csv, 7 as rewritten
    assert query(drops, "select count(*), sum(score) from raw_drops.scores") == [(3, 1.5 + 4)]


def test_a_frozen_file_resource_refuses_a_new_column(tmp_path: Path) -> None:
    project = source_project(tmp_path / "p", DROPS.replace("{scores}", 'schema = "freeze"'))
    write(project / "inbox" / "scores" / "a.csv", "id,name,score,seen_at,team\n1,ann,1.5,2026-01-01T00:00:00Z,x\n")
    with pytest.raises(SchemaFrozenError, match=r"schema of scores is frozen, but the data has a new column team"):
        extract(project, "drops")


def test_a_custom_python_source(tmp_path: Path) -> None:
    project = source_project(tmp_path / "p", '[sources.mine]\nkind = "python"\ncallable = "my_sources:numbers"\n')
    write(project / "my_sources.py", "import dlt\n\n\n@dlt.source\ndef numbers():\n"
                                     "    return dlt.resource([{'n': i} for i in range(5)], name='numbers')\n")
    assert extract(project, "mine").rows == {"numbers": 5}
    assert query(project, "select sum(n) from raw_mine.numbers") == [(10,)]


def test_a_second_run_of_the_same_pipeline_waits_for_the_first(drops: Path) -> None:
    import logging
    import subprocess
    import sys

    lock = drops / ".elt" / "dlt" / "src__drops__dev.lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys\n"
        f"f = open({str(lock)!r}, 'a+'); fcntl.flock(f, fcntl.LOCK_EX); f.write('pid 1 on other-host'); f.flush()\n"
        "print('held', flush=True); sys.stdin.readline()\n")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    waits: list[str] = []

    class ReleaseWhenWaiting(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "waiting for it to finish" in record.getMessage():
                waits.append(record.getMessage())
                holder.stdin.write("done\n")
                holder.stdin.flush()

    handler = ReleaseWhenWaiting()
    logging.getLogger("elt.sources").addHandler(handler)
    try:
        result = extract(drops, "drops")
    finally:
        logging.getLogger("elt.sources").removeHandler(handler)
        holder.kill()
    assert waits == ["pipeline src__drops__dev is in use by pid 1 on other-host; waiting for it to finish"]
    assert result.rows == {"scores": 2, "clicks": 2, "sales": 3}
