"""Fingerprints: what a model means, independent of formatting, comments and keyword case."""
from __future__ import annotations

import hashlib

from transforms.models import Model


def normalized_sql(model: Model) -> str:
    """The model's SQL regenerated from its AST: whitespace, comments and keyword case fall away."""
    return model.ast.sql(dialect="duckdb", comments=False, normalize=True)


def own_parts(model: Model) -> list[str]:
    """What the model itself says: its normalised SQL and its materialization (with its keys)."""
    keys = [",".join(model.unique_key), model.delta_from] if model.materialized == "incremental" else []
    return [normalized_sql(model), model.materialized, *keys]


def own_key(parts: list[str]) -> str:
    """A short hash of `own_parts`, without the upstream: tells a plan whether the model's own text changed."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def fingerprint(model: Model, upstream: list[str], parts: list[str] | None = None) -> str:
    """Hash of the normalised SQL, the materialization (with its keys) and the upstream fingerprints.

    Description and tags are documentation: changing them rebuilds nothing. `parts`: own_parts(model),
    when the caller has it already (normalising the SQL is most of the cost).
    """
    digest = hashlib.sha256()
    for part in (*(parts if parts is not None else own_parts(model)), *sorted(upstream)):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def version_key(fingerprint_: str, inputs: list[str]) -> str:
    """Fingerprint plus the versions of the data read: equal keys mean an identical relation."""
    digest = hashlib.sha256(fingerprint_.encode())
    for item in sorted(inputs):
        digest.update(b"\0" + item.encode())
    return digest.hexdigest()[:16]
