"""Golden-fixture tests for every lint rule.

Each rule module `transforms/lint/rules/<rule>.py` has a fixture `tests/lint/fixtures/<rule>.sql` holding
many cases:

    -- case: <title>
    -- expect: ok | CODE[@line] | CODE@<model>:<line>[, ...]
    -- model: <layer>/<name>.sql      (optional, repeatable: one section per model file)
    -- xfail: <why>                   (optional: a known lint bug; the case must fail until it is fixed)
    <SQL lines of the model>

A case without `-- model:` lines is the single model `staging/case_model.sql`. Expectations list the
violations of the fixture's rule only; line numbers are 1-based within the model file the violation
points to (the file holds exactly the section's SQL lines, leading/trailing blank lines removed).
`<model>` is the model's name (file stem) or, when two files share a name, its `<layer>/<name>` path.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from transforms.lint import lint, load_context
from transforms.lint.rules import RULES

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_MODEL = "staging/case_model.sql"

RAW = {
    "raw_shop.orders": ["order_id", "customer_id", "status", "amount", "created_at", "updated_at",
                        "_dlt_load_id"],
    "raw_shop.customers": ["customer_id", "name", "email", "country", "tier", "created_at", "updated_at",
                           "_dlt_load_id"],
    "raw_shop.payments": ["payment_id", "order_id", "method", "amount", "paid_at", "updated_at",
                          "_dlt_load_id"],
}

CASE = re.compile(r"^--\s*case:\s*(.+?)\s*$")
EXPECT = re.compile(r"^--\s*expect:\s*(.+?)\s*$")
MODEL = re.compile(r"^--\s*model:\s*(\S+\.sql)\s*$")
XFAIL = re.compile(r"^--\s*xfail:\s*(.+?)\s*$")
EXPECTATION = re.compile(r"^(?P<code>[A-Z]\d{3})(?:@(?:(?P<model>[A-Za-z_][\w/]*):)?(?P<line>\d+)"
                         r"|@(?P<only_model>[A-Za-z_][\w/]*))?$")


@dataclass(frozen=True)
class Expected:
    code: str
    model: str | None = None  # None: the case's only model
    line: int | None = None  # None: any line

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.model, self.line) if p is not None)
        return f"{self.code}@{where}" if where else self.code


@dataclass
class Case:
    rule: str
    title: str
    line: int  # of the `-- case:` line in the fixture, for error messages
    expect: list[Expected] | None = None
    models: dict[str, list[str]] = field(default_factory=dict)
    xfail: str | None = None

    @property
    def ok(self) -> bool:
        return self.expect == []


def parse_fixture(path: Path) -> list[Case]:
    """Split a fixture file into cases; anything before the first `-- case:` is a free header."""
    rule = path.stem
    cases: list[Case] = []
    current: list[str] | None = None
    for number, raw_line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw_line.rstrip()
        if match := CASE.match(line):
            cases.append(Case(rule, match.group(1), number))
            current = None
            continue
        if not cases:
            continue
        case = cases[-1]
        if match := EXPECT.match(line):
            assert case.expect is None, f"{path}:{number}: second `-- expect:` in case {case.title!r}"
            case.expect = _parse_expect(match.group(1), f"{path}:{number}")
        elif match := XFAIL.match(line):
            case.xfail = match.group(1)
        elif match := MODEL.match(line):
            name = match.group(1)
            assert name not in case.models, f"{path}:{number}: model {name} twice in case {case.title!r}"
            current = case.models[name] = []
        else:
            if current is None:
                if not line.strip():
                    continue  # blank lines between the directives and the SQL
                current = case.models.setdefault(DEFAULT_MODEL, [])
            current.append(line)
    for case in cases:
        where = f"{path}:{case.line} ({case.title!r})"
        assert case.expect is not None, f"{where}: no `-- expect:` line"
        assert case.models, f"{where}: no SQL"
        for name, lines in case.models.items():
            case.models[name] = _trim(lines)
            assert case.models[name], f"{where}: model {name} has no SQL"
    titles = [c.title for c in cases]
    duplicates = sorted({t for t in titles if titles.count(t) > 1})
    assert not duplicates, f"{path}: duplicate case titles {duplicates}"
    return cases


def _parse_expect(text: str, where: str) -> list[Expected]:
    if text.strip().lower() == "ok":
        return []
    found = []
    for item in (i.strip() for i in text.split(",")):
        match = EXPECTATION.match(item)
        assert match, f"{where}: bad expectation {item!r} (want ok, CODE, CODE@line or CODE@model:line)"
        line = match.group("line")
        found.append(Expected(match.group("code"), match.group("model") or match.group("only_model"),
                              int(line) if line else None))
    return found


def _trim(lines: list[str]) -> list[str]:
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return lines[start:end]


def _rule_name(rule) -> str:
    return rule.__name__.rsplit(".", 1)[-1]


def _all_cases() -> list[Case]:
    cases = []
    for rule in RULES:
        path = FIXTURES / f"{_rule_name(rule)}.sql"
        if path.exists():
            cases.extend(parse_fixture(path))
    return cases


CASES = _all_cases()
CODES = {_rule_name(rule): rule.CODE for rule in RULES}


def _write_models(case: Case, models_dir: Path) -> None:
    for name, lines in case.models.items():
        path = models_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _matches(expected: Expected, actual: tuple[str, str, int | None], only_model: str | None) -> bool:
    code, relative, line = actual
    model = expected.model or only_model
    if expected.code != code:
        return False
    if model is not None and model not in (relative, relative.removesuffix(".sql"),
                                           Path(relative).stem):
        return False
    return expected.line is None or expected.line == line


def _param(case: Case):
    marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
    return pytest.param(case, id=f"{case.rule}::{case.title}", marks=marks)


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_rule_case(case: Case, tmp_path: Path) -> None:
    code = CODES[case.rule]
    wrong = [str(e) for e in case.expect if e.code != code]
    assert not wrong, f"expectations must name only this fixture's rule {code}, not {wrong}"

    models_dir = tmp_path / "models"
    _write_models(case, models_dir)
    context = load_context(models_dir, RAW)
    if code != CODES["syntax"]:
        # A fixture that does not parse would pass its `ok` cases vacuously.
        assert not context.parse_errors, [str(e) for e in context.parse_errors]
    violations = [v for v in lint(context) if v.code == code]

    actual = []
    for v in violations:
        path = Path(v.location.path)
        relative = path.relative_to(models_dir).as_posix() if path.is_relative_to(models_dir) else str(path)
        actual.append((v.code, relative, v.location.line))
    only_model = Path(next(iter(case.models))).stem if len(case.models) == 1 else None

    # Match the most specific expectations first so a bare CODE cannot steal a CODE@line's violation.
    unmatched = list(actual)
    missing = []
    for expected in sorted(case.expect, key=lambda e: (e.line is None, e.model is None)):
        hit = next((a for a in unmatched if _matches(expected, a, only_model)), None)
        if hit is None:
            missing.append(str(expected))
        else:
            unmatched.remove(hit)
    unexpected = [f"{c}@{f.removesuffix('.sql')}:{ln}" for c, f, ln in unmatched]
    report = "\n".join(str(v) for v in violations) or "(none)"
    assert not missing and not unexpected, (
        f"missing: {missing}; unexpected: {unexpected}\n{code} violations reported:\n{report}")


@pytest.mark.parametrize("rule", RULES, ids=_rule_name)
def test_every_rule_has_a_fixture(rule) -> None:
    name = _rule_name(rule)
    path = FIXTURES / f"{name}.sql"
    assert path.exists(), f"rule {name} ({rule.CODE}) has no golden fixture {path}"
    cases = parse_fixture(path)
    assert any(c.ok and not c.xfail for c in cases), f"{path}: needs at least one `-- expect: ok` case"
    assert any(not c.ok and not c.xfail for c in cases), f"{path}: needs at least one case that reports {rule.CODE}"


def test_no_fixture_without_a_rule() -> None:
    stray = sorted(p.name for p in FIXTURES.glob("*.sql") if p.stem not in CODES)
    assert not stray, f"fixtures for rules that are not registered in RULES: {stray}"
