"""`materialized: table`: the whole result stored as one versioned table, rebuilt whenever an input changes."""
from __future__ import annotations

from elt.warehouse import Warehouse
from transforms.materialize import view
from transforms.materialize.common import BuildResult, Version
from transforms.models import Model

plan = view.plan  # keyed like a view: SQL plus the versions of everything it reads


def build(wh: Warehouse, model: Model, version: Version, context) -> BuildResult:
    return view.create(wh, model, version, context, "table")
