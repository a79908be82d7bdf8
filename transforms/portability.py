"""What sqlglot gets wrong when it carries DuckDB SQL to another dialect, as data.

Three kinds of knowledge, each found by the dialect compatibility suite (tests/compat, which runs a
corpus of DuckDB queries on DuckDB and, transpiled, on Postgres and compares the results):

- UNPORTABLE: constructs refused at compile time, each with the reason its translation fails.
- FUNCTIONS: names the target really has. sqlglot prints a function it has no mapping for under its own
  name (`DAY_OF_WEEK(x)`), and some mappings name functions the target lacks (`ARRAY_SORT`); a printed
  function name is trusted only when the target has a function of that name.
- REWRITES: the few translations fixed up before generation, where the fix is exact.

Limits: the rules are syntactic. Where the difference depends on a column's type (ROUND of a DOUBLE,
DATE_TRUNC of a DATE, MEDIAN of a DECIMAL, LENGTH of a list), compile time cannot see it; the corpus keeps
those as `-- expect: differs` cases.
"""
from __future__ import annotations

import re
from typing import Any, Callable, NamedTuple

from sqlglot import exp

# --- refusals ---------------------------------------------------------------------------------------

# strftime codes whose TO_CHAR translation the corpus verified; any other code is copied into the
# TO_CHAR pattern verbatim (%p, %w, %%) or translated to a different field (%U -> WW, %u -> D).
STRFTIME_CODES = frozenset(("%Y", "%y", "%m", "%-m", "%d", "%-d", "%H", "%I", "%M", "%S", "%f", "%j",
                            "%b", "%B", "%a", "%A", "%V", "%G"))
_STRFTIME_TOKEN = re.compile(r"%-?.")
# date_diff units whose translation counts boundaries like DuckDB does ('week' counts 7-day spans instead).
DATE_DIFF_UNITS = frozenset(("YEAR", "QUARTER", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND"))


def _strftime_unverified(node: exp.TimeToStr) -> bool:
    fmt = node.args.get("format")
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        return True
    # Letters outside a code are TO_CHAR patterns there ('Week of' -> week-of-month, 'T' -> 'TH' suffix).
    unknown_code = any(code not in STRFTIME_CODES for code in _STRFTIME_TOKEN.findall(fmt.this))
    return unknown_code or bool(re.search(r'[A-Za-z"\\]', _STRFTIME_TOKEN.sub("", fmt.this)))


def _star_selected(select: exp.Select) -> bool:
    return any(isinstance(e, exp.Star) or (isinstance(e, exp.Column) and isinstance(e.this, exp.Star))
               for e in select.expressions)


def _range_step_unsafe(node: exp.GenerateSeries) -> bool:
    """range(a, b, step) becomes generate_series(a, b -/+ 1, step): right only for an integer literal step."""
    step = node.args.get("step")
    number = step.this if isinstance(step, exp.Neg) else step
    return bool(node.args.get("is_end_exclusive")) and step is not None and not (
        isinstance(number, exp.Literal) and number.is_int)


def _json_path_unsupported(node: exp.JSONExtract | exp.JSONExtractScalar) -> bool:
    """Only literal paths of keys and non-negative indexes have an exact json/jsonb translation."""
    path = node.expression
    if not isinstance(path, exp.JSONPath):
        return True  # a JSON pointer ('/a/b'), a list of paths or a computed path
    return not all((isinstance(p, (exp.JSONPathRoot, exp.JSONPathKey)) and not isinstance(p.this, exp.Expression))
                   or (isinstance(p, exp.JSONPathSubscript) and isinstance(p.this, int) and p.this >= 0)
                   for p in path.expressions)


class Rule(NamedTuple):
    construct: str
    lacking: tuple[str, ...]  # dialects that cannot express it
    types: tuple[type[exp.Expression], ...]  # nodes it is about
    matches: Callable[[Any], bool] | None  # further condition on such a node; None: every one
    why: str = ""


UNPORTABLE: tuple[Rule, ...] = (
    Rule("UNION BY NAME", ("postgres", "bigquery"), (exp.SetOperation,), lambda n: bool(n.args.get("by_name"))),
    Rule("SELECT * EXCLUDE/REPLACE", ("postgres",), (exp.Star,),
         lambda n: any(n.args.get(k) for k in ("except_", "replace", "rename"))),
    Rule("GROUP BY ALL with SELECT *", ("postgres",), (exp.Select,),
         lambda n: bool(n.args.get("group") and n.args["group"].args.get("all")) and _star_selected(n),
         "the grouping columns cannot be listed without the table's columns"),
    Rule("ORDER BY ALL", ("postgres",), (exp.Ordered,),
         lambda n: isinstance(n.this, exp.Var) and n.this.name.upper() == "ALL"),
    Rule("QUALIFY with SELECT *", ("postgres",), (exp.Select,),
         lambda n: bool(n.args.get("qualify")) and _star_selected(n),
         "the subquery that replaces QUALIFY would add its window column to the result"),
    Rule("TRY_CAST", ("postgres",), (exp.TryCast,), None, "a Postgres CAST fails where TRY_CAST gives NULL"),
    Rule("strptime()", ("postgres",), (exp.StrToTime, exp.StrToDate), None,
         "TO_TIMESTAMP returns timestamptz and accepts input strptime rejects; cast an ISO string instead"),
    Rule("strftime() with this format", ("postgres",), (exp.TimeToStr,), _strftime_unverified,
         f"TO_CHAR reads it differently; use a literal format of {' '.join(sorted(STRFTIME_CODES))} "
         "and punctuation"),
    Rule("date_diff() with this unit", ("postgres",), (exp.DateDiff,),
         lambda n: n.text("unit").upper() not in DATE_DIFF_UNITS,
         f"only {', '.join(sorted(DATE_DIFF_UNITS)).lower()} count boundaries like DuckDB"),
    Rule("generate_series()/range() outside FROM", ("postgres",), (exp.GenerateSeries,),
         lambda n: not isinstance(n.parent, exp.Table), "DuckDB returns one list, Postgres a set of rows"),
    Rule("range() with a step that is not an integer literal", ("postgres",), (exp.GenerateSeries,),
         _range_step_unsafe, "its exclusive end becomes `end - 1`: wrong for a negative step, invalid for timestamps"),
    Rule("JSON path that is not a literal of keys and indexes", ("postgres",),
         (exp.JSONExtract, exp.JSONExtractScalar), _json_path_unsupported, "use '$.key.key[0]' paths"),
    # l[-1] counts from the end in DuckDB and is NULL in Postgres; s['key'] addresses a struct or map.
    Rule("negative or string subscript", ("postgres",), (exp.Bracket,),
         lambda n: any(e.find(exp.Neg) or (isinstance(e, exp.Literal) and e.is_string) for e in n.expressions),
         "Postgres arrays have no from-the-end indexing and no structs or maps"),
    Rule("struct value", ("postgres",), (exp.Struct,), None, "Postgres has no struct type"),
    Rule("COLLATE", ("postgres",), (exp.Collate,), None, "collation names differ between the engines"),
    Rule("GLOB", ("postgres",), (exp.Glob,), None, "use LIKE"),
    Rule("any_value()", ("postgres",), (exp.AnyValue,), None, "Postgres has it from version 16 only"),
    # A type question the rules cannot see; refusing beats a run-time "function round(double precision,
    # integer) does not exist" for every model that rounds a DOUBLE.
    Rule("round(x, digits) of a value not cast to DECIMAL", ("postgres",), (exp.Round,),
         lambda n: n.args.get("decimals") is not None and not (
             isinstance(n.this, exp.Cast) and n.this.to.this in (exp.DataType.Type.DECIMAL,)),
         "Postgres rounds to digits only numeric values: write round(x::decimal(18, 4), digits)"),
)

# --- functions the target has -----------------------------------------------------------------------

# Every function name sqlglot 30 can print for Postgres (Func.sql_name, names in its generator's source)
# that Postgres 15's pg_catalog has with DuckDB's meaning, plus SQL keywords printed like functions.
# Left out on purpose: MODE (needs WITHIN GROUP), FORMAT ({} vs %s), DECODE/ENCODE, CONVERT, DATE_BIN
# (needs an origin), TO_DATE/TO_NUMBER (lenient parsers), JSON_OBJECT (other arguments), and
# JSON_EXTRACT_PATH[_TEXT] (json only, not jsonb). tests/compat checks every name against the live catalog.
POSTGRES_KEYWORD_FUNCTIONS = frozenset(("COALESCE", "NULLIF", "GREATEST", "LEAST", "GROUPING", "TRIM", "ARRAY"))
FUNCTIONS: dict[str, frozenset[str]] = {
    "postgres": POSTGRES_KEYWORD_FUNCTIONS | frozenset((
        "ABS", "ACOS", "ACOSH", "ARRAY_AGG", "ARRAY_APPEND", "ARRAY_CAT", "ARRAY_LENGTH", "ARRAY_POSITION",
        "ARRAY_PREPEND", "ARRAY_REMOVE", "ARRAY_TO_STRING", "ASCII", "ASIN", "ASINH", "ATAN", "ATAN2", "ATANH",
        "AVG", "BIT_AND", "BIT_LENGTH", "BIT_OR", "BIT_XOR", "BOOL_AND", "BOOL_OR", "CBRT", "CEIL", "CHAR_LENGTH",
        "CHR", "CONCAT", "CONCAT_WS", "CORR", "COS", "COSH", "COT", "COUNT", "COVAR_POP", "COVAR_SAMP",
        "CUME_DIST", "CURRENT_DATABASE", "CURRENT_SCHEMA", "CURRENT_SCHEMAS", "CURRENT_USER", "DATE_PART",
        "DATE_TRUNC", "DEGREES", "DENSE_RANK", "DIV", "EXP", "EXTRACT", "FACTORIAL", "FIRST_VALUE", "FLOOR",
        "GENERATE_SERIES", "GEN_RANDOM_UUID", "INITCAP", "JSONB_CONTAINS", "JSONB_EXISTS", "JSONB_OBJECT_AGG",
        "JSON_AGG", "JSON_OBJECT_AGG", "JSON_STRIP_NULLS", "JUSTIFY_DAYS", "JUSTIFY_HOURS", "JUSTIFY_INTERVAL",
        "LAG", "LAST_VALUE", "LEAD", "LEFT", "LENGTH", "LN", "LOG", "LOWER", "LPAD", "LTRIM", "MAKE_DATE",
        "MAKE_INTERVAL", "MAKE_TIME", "MAKE_TIMESTAMP", "MAX", "MD5", "MIN", "NTH_VALUE", "NTILE", "OVERLAY",
        "PERCENTILE_CONT", "PERCENTILE_DISC", "PERCENT_RANK", "PI", "POSITION", "POW", "POWER", "RADIANS",
        "RANDOM", "RANK", "REGEXP_COUNT", "REGEXP_INSTR", "REGEXP_LIKE", "REGEXP_REPLACE", "REGEXP_SUBSTR",
        "REGR_AVGX", "REGR_AVGY", "REGR_COUNT", "REGR_INTERCEPT", "REGR_R2", "REGR_SLOPE", "REGR_SXX", "REGR_SXY",
        "REGR_SYY", "REPEAT", "REPLACE", "REVERSE", "RIGHT", "ROUND", "ROW_NUMBER", "RPAD", "RTRIM",
        "SESSION_USER", "SIGN", "SIN", "SINH", "SPLIT_PART", "SQRT", "STARTS_WITH", "STDDEV", "STDDEV_POP",
        "STDDEV_SAMP", "STRING_AGG", "STRING_TO_ARRAY", "STRPOS", "SUBSTRING", "SUM", "TAN", "TANH", "TO_CHAR",
        "TO_TIMESTAMP", "TRANSLATE", "TRUNC", "UNNEST", "UPPER", "VARIANCE", "VAR_POP", "VAR_SAMP",
        "WIDTH_BUCKET",
    )),
}

# --- exact rewrites ---------------------------------------------------------------------------------


def _is_group_aggregate(agg: exp.AggFunc, select: exp.Select) -> bool:
    """An aggregate of this SELECT's groups: not in a subquery, and not itself a window function."""
    if agg.find_ancestor(exp.Select) is not select:
        return False
    node: exp.Expression = agg
    while node.parent is not None and node is not select:
        if isinstance(node.parent, exp.Window) and node.arg_key == "this":
            return False
        node = node.parent
    return True


def group_by_all_as_positions(select: exp.Select) -> None:
    """GROUP BY ALL -> GROUP BY the positions of the select items without an aggregate (DuckDB's rule)."""
    group = select.args.get("group")
    if group is None or not group.args.get("all"):
        return
    positions = [exp.Literal.number(i) for i, item in enumerate(select.expressions, start=1)
                 if not any(_is_group_aggregate(a, select) for a in item.find_all(exp.AggFunc))]
    select.set("group", exp.Group(expressions=positions) if positions else None)


def _array_element(text: str) -> str:
    """One element of a Postgres text[] literal, quoted only where the array syntax needs it."""
    if re.fullmatch(r"\w+", text) and text.upper() != "NULL":
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def json_path_as_operator(node: exp.JSONExtract | exp.JSONExtractScalar) -> None:
    """x->>'$.a.b' -> (x #>> '{a,b}'): sqlglot's JSON_EXTRACT_PATH[_TEXT] takes json but not jsonb,
    the type dlt loads JSON into; #> and #>> take both."""
    steps = [str(p.this) for p in node.expression.expressions if not isinstance(p, exp.JSONPathRoot)]
    path = "{" + ",".join(_array_element(step) for step in steps) + "}"
    operator = exp.JSONBExtract if isinstance(node, exp.JSONExtract) else exp.JSONBExtractScalar
    node.replace(exp.paren(operator(this=node.this, expression=exp.Literal.string(path)), copy=False))


def date_series_as_timestamps(series: exp.GenerateSeries) -> None:
    """generate_series(DATE, DATE, INTERVAL) is a TIMESTAMP series in DuckDB, timestamptz in Postgres."""
    if not isinstance(series.args.get("step"), exp.Interval):
        return
    for key in ("start", "end"):
        bound = series.args.get(key)
        if isinstance(bound, exp.CurrentDate) or (isinstance(bound, exp.Cast) and bound.to.is_type("date")):
            series.set(key, exp.cast(bound, exp.DType.TIMESTAMP))


def parenthesise_subscripted_call(bracket: exp.Bracket) -> None:
    """array_agg(x)[1] is a syntax error in Postgres; (array_agg(x))[1] is not."""
    if isinstance(bracket.this, exp.Func):
        bracket.set("this", exp.paren(bracket.this, copy=False))


def make_date(node: exp.DateFromParts) -> None:
    """make_date(y, m, d) is printed as DATE_FROM_PARTS, which Postgres lacks; it has MAKE_DATE."""
    parts = [node.args.get(k) for k in ("year", "month", "day")]
    if all(parts) and not any(v for k, v in node.args.items() if k not in ("year", "month", "day")):
        node.replace(exp.Anonymous(this="MAKE_DATE", expressions=parts))


# (nodes it is about, the rewrite of one such node in place)
Rewrite = tuple[tuple[type[exp.Expression], ...], Callable[[Any], None]]
REWRITES: dict[str, tuple[Rewrite, ...]] = {
    "postgres": (
        ((exp.Select,), group_by_all_as_positions),
        ((exp.JSONExtract, exp.JSONExtractScalar), json_path_as_operator),
        ((exp.GenerateSeries,), date_series_as_timestamps),
        ((exp.Bracket,), parenthesise_subscripted_call),
        ((exp.DateFromParts,), make_date),
    ),
}


def rewrite(tree: exp.Expression, dialect: str) -> None:
    """Apply the dialect's rewrites to `tree` in place, in one pass (outer nodes before inner ones)."""
    rewrites = REWRITES.get(dialect, ())
    watched = tuple(t for types, _ in rewrites for t in types)
    if not watched:
        return
    for node in [n for n in tree.walk() if isinstance(n, watched)]:
        for types, fix in rewrites:
            if isinstance(node, types):
                fix(node)
