"""Which contract each model version passed, so a published version is checked again only when its contract
changes (a no-op run verifies nothing; a tightened contract is applied at the next run, new data or not).

`_elt.verified`: one row per relation, the digest of the contract it last passed under a gate that passed.
"""
from __future__ import annotations

from elt.warehouse import INTERNAL_SCHEMA, Warehouse, exists

TABLE = f"{INTERNAL_SCHEMA}.verified"


def passed(wh: Warehouse) -> dict[str, str]:
    """Relation -> digest of the contract it passed (empty before the first passing gate)."""
    if not exists(wh, INTERNAL_SCHEMA, "verified"):
        return {}
    return dict(wh.execute(f"select relation, contract from {TABLE}").fetchall())


def record(wh: Warehouse, relations: dict[str, str]) -> None:
    """Note that each relation passed the contract with the given digest; rows of dropped relations go."""
    if not relations:
        return
    wh.execute(f"create schema if not exists {INTERNAL_SCHEMA}")
    wh.execute(f"create table if not exists {TABLE} (relation varchar primary key, contract varchar not null)")
    with wh.transaction():
        wh.executemany(f"insert into {TABLE} values (?, ?) on conflict (relation) do update "
                       "set contract = excluded.contract", [[r, c] for r, c in sorted(relations.items())])
        wh.execute(f"delete from {TABLE} where relation not in (select table_schema || '.' || table_name "
                   "from information_schema.tables where table_schema = ?)", [INTERNAL_SCHEMA])
