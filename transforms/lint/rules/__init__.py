"""The registered lint rules, in report order."""
from transforms.lint.rules import (
    ambiguous_column,
    dependency_cycle,
    duplicate_model,
    incremental_shape,
    live_published_view,
    select_star_in_mart,
    syntax,
    unknown_column,
    unknown_table,
)

RULES = (syntax, unknown_table, unknown_column, ambiguous_column, select_star_in_mart, duplicate_model,
         dependency_cycle, live_published_view, incremental_shape)
