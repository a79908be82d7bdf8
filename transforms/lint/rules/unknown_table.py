"""L002: a query reads a table that is neither a raw table nor a model."""
from __future__ import annotations

from typing import Iterator

CODE = "L002"


def check(context) -> Iterator:
    from transforms.lint import Violation

    models = context.by_name
    for model in context.models:
        for ref in model.refs:
            if ref.schema == context.published_schema.lower() and ref.name in models:
                yield Violation(CODE, f"{ref.key} is the published view; read the model as {ref.name} "
                                      "so the run builds against its new version", ref.location)
            elif ref.key not in context.raw and not (not ref.schema and ref.name in models):
                yield Violation(CODE, f"unknown table {ref.key}: not a raw table or a model", ref.location)
