"""The SQL of an incremental model's delta: the model evaluated over only the new rows of its driver.

The driver (transforms/delta_shape.py) is a raw table, an upstream incremental model, or a view that
reads one of those. "New" is exact without a user-maintained watermark: dlt stamps every raw row with
the `_dlt_load_id` of its load, and an incremental model stamps every row with the `_elt_batch` that
wrote it. The queries are ASTs in the authoring dialect; materialize/incremental.py compiles them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot import exp

from transforms.models import Model
from transforms.schema import relation_key

if TYPE_CHECKING:
    from transforms.delta_shape import DeltaShape

LOAD_ID = "_dlt_load_id"
BATCH = "_elt_batch"
SUPERSEDED = "_elt_superseded"


def visible(batch: int, alias: str = "") -> str:
    """Rows an incremental model's storage shows at `batch`: written by then, not yet replaced."""
    prefix = f"{alias}." if alias else ""
    return f"{prefix}{BATCH} <= {batch} and ({prefix}{SUPERSEDED} is null or {prefix}{SUPERSEDED} > {batch})"


def shape_of(model: Model, models: dict[str, Model]) -> "DeltaShape":
    from transforms.delta_shape import DeltaShape, analyze

    shape = analyze(model, models)
    if not isinstance(shape, DeltaShape):  # lint refuses these before a build; reaching here is a bug
        raise ValueError(f"model {model.name} cannot be built incrementally: {shape[0]}")
    return shape


def root_driver(model: Model, models: dict[str, Model]) -> str:
    """The raw table or incremental model whose new rows drive `model`, through any views between."""
    return shape_of(model, models).origin


def driver_rows(model: Model, models: dict[str, Model], root_rows: exp.Query) -> exp.Query:
    """The new rows of `model`'s immediate driver, given the new rows of the root driver."""
    driver = shape_of(model, models).driver
    if driver in models and models[driver].materialized == "view":
        view = models[driver]
        return substitute(view.ast, shape_of(view, models), driver_rows(view, models, root_rows))
    return root_rows


def raw_rows_after(table: str, load_id: str | None) -> exp.Query:
    """Rows of a raw table from loads after `load_id` (all of them when there is none)."""
    query = exp.select("*").from_(exp.to_table(table))
    return query.where(exp.GT(this=exp.column(LOAD_ID), expression=exp.Literal.string(load_id))) if load_id else query


def batch_rows_after(storage: str, columns: list[str], after: int, shown: int) -> exp.Query:
    """Rows of an incremental model's storage written after batch `after` and still shown at `shown`."""
    condition = exp.condition(f"{BATCH} > {after} and {visible(shown)}")
    return exp.select(*columns).from_(exp.to_table(storage)).where(condition)


def model_delta(model: Model, models: dict[str, Model], new_rows: exp.Query) -> tuple[exp.Query, exp.Query | None]:
    """(the model over the driver's new rows, the keys whose earlier rows the delta replaces or None).

    A model grouped by its unique key is evaluated over every driver row of the groups that received a new
    row, so each affected group is recomputed whole.
    """
    shape = shape_of(model, models)
    driver_cols = list(shape.keys.values())
    keys = (exp.select(*driver_cols).from_(new_rows.subquery("_elt_new"))) if shape.keys else None
    if shape.grouped:
        whole = exp.to_table(shape.driver)
        touched = exp.Tuple(expressions=[exp.column(c) for c in driver_cols]) if len(driver_cols) > 1 \
            else exp.column(driver_cols[0])
        rows: exp.Query = exp.select("*").from_(whole).where(touched.isin(query=keys.copy()))
    else:
        rows = new_rows
    return substitute(model.ast, shape, rows), keys


def substitute(ast: exp.Query, shape: "DeltaShape", rows: exp.Query) -> exp.Query:
    """`ast` with its driving relation replaced by `(rows) AS <alias>`, so every column reference holds."""
    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table) and relation_key(node) == shape.driver \
                and node.alias_or_name.lower() == shape.driver_alias:
            return rows.copy().subquery(shape.driver_alias)
        return node

    replaced = ast.copy()
    for item in [replaced.args["from_"], *(replaced.args.get("joins") or [])]:  # the driver may be a join
        item.set("this", swap(item.this))
    return replaced


def key_condition(keys: dict[str, str], keys_sql: str) -> str:
    """`(k1, k2) in (<keys>)`: the unique key of a stored row is among the delta's keys."""
    columns = list(keys)
    left = columns[0] if len(columns) == 1 else f"({', '.join(columns)})"
    return f"{left} in ({keys_sql})"
