"""dlt table hints of a declared resource: keys, write disposition, declared columns, schema policy."""
from __future__ import annotations

from typing import Any

from elt.source_config import Resource
from sources.validate import DLT_TYPES

FROZEN = {"tables": "evolve", "columns": "freeze", "data_type": "freeze"}


def hints(spec: Resource, enforce_freeze: bool = False) -> dict[str, Any]:
    """`enforce_freeze`: let dlt refuse drift (sql_database); REST and file resources refuse it themselves
    while extracting, before anything is committed (dlt checks JSON rows only when normalising)."""
    disposition: Any = spec.write_disposition
    if disposition == "scd2":
        disposition = {"disposition": "merge", "strategy": "scd2"}
    result: dict[str, Any] = {
        "write_disposition": disposition,
        "schema_contract": FROZEN if spec.schema == "freeze" and enforce_freeze else "evolve",
        "columns": {name: {"data_type": DLT_TYPES[kind], "nullable": name not in spec.required}
                    for name, kind in spec.columns.items()},
    }
    if spec.primary_key:
        result["primary_key"] = list(spec.primary_key)
    return result
