"""Selectors: model, +model, model+, +model+, tag:x, --exclude; typos refused with a suggestion."""
from pathlib import Path

import pytest

from elt.errors import EltError
from transforms.models import parse_all
from transforms.selection import resolve, sources_read


@pytest.fixture
def models(tmp_path: Path):
    """raw_a.t -> a -> b (tag finance) -> c;  raw_z.t -> d;  b -> e"""
    files = {
        "a.sql": "select x from raw_a.t",
        "b.sql": "-- tags: finance\nselect x from a",
        "c.sql": "select x from b",
        "d.sql": "-- tags: hr\nselect y from raw_z.t",
        "e.sql": "select x from b",
    }
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    return parse_all(tmp_path)


@pytest.mark.parametrize("select, expected", [
    ([], "abcde"),
    (["c"], "abc"),
    (["+c"], "abc"),             # upstream always comes along: + before is the same set
    (["b+"], "abce"),            # b, its downstream, and what they read
    (["+b+"], "abce"),
    (["a+"], "abce"),
    (["tag:finance", "d"], "abd"),
    (["tag:finance+"], "abce"),
])
def test_selectors(models, select, expected):
    assert resolve(models, select) == set(expected)


@pytest.mark.parametrize("select, exclude, expected", [
    ([], ["d"], "abce"),
    ([], ["b"], "ad"),    # what reads b goes with it: c and e would be built from no new b
    (["a+"], ["c"], "abe"),
    (["a+"], ["tag:finance"], "a"),
    ([], ["b+"], "ad"),
])
def test_exclude_takes_the_readers_along(models, select, exclude, expected):
    assert resolve(models, select, exclude) == set(expected)


def test_excluding_everything_is_an_error(models):
    with pytest.raises(EltError, match=r"--exclude a leaves no model to build"):
        resolve(models, ["c"], ["a"])


@pytest.mark.parametrize("selector, message", [
    ("cc", r"unknown model 'cc' in selector 'cc' — did you mean c\?"),
    ("+bb+", r"unknown model 'bb' in selector '\+bb\+' — did you mean b\?"),
    ("zzz_nothing", r"unknown model 'zzz_nothing'.*a selector is MODEL, \+MODEL, MODEL\+"),
    ("tag:financ", r"no model has tag 'financ' \(selector 'tag:financ'\) — did you mean tag:finance\?"),
    ("tag:sales", r"no model has tag 'sales'.*tags: finance, hr"),
])
def test_typos_are_refused_with_a_suggestion(models, selector, message):
    with pytest.raises(EltError, match=message):
        resolve(models, [selector])
    with pytest.raises(EltError, match=message):
        resolve(models, [], [selector])


def test_sources_read_by_a_selection(models):
    assert sources_read(models, resolve(models, ["c"])) == {"raw_a"}
    assert sources_read(models, resolve(models, ["tag:hr"])) == {"raw_z"}
    assert sources_read(models, resolve(models, [])) == {"raw_a", "raw_z"}
