"""Materializations, one module each: how a model's version is planned, built and audited.

Every module answers the same questions (the way lint rules each answer "what is wrong here"):
`plan(context, model, fingerprint, inputs) -> Version` and `build(wh, model, version, context) -> BuildResult`.
`transforms.build` dispatches on `-- materialized:`; it grows no `if kind ==` per feature.
"""
from __future__ import annotations

from types import ModuleType

from transforms.materialize import incremental, table, view

MATERIALIZATIONS: dict[str, ModuleType] = {"view": view, "table": table, "incremental": incremental}


def of(materialized: str) -> ModuleType:
    return MATERIALIZATIONS[materialized]
