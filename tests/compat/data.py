"""One small deterministic dataset, created identically in DuckDB and in Postgres.

Column types are spelled so both engines accept them; only JSON differs (Postgres gets JSONB, which is
what dlt loads JSON into). Both sessions run in UTC. DuckDB compares strings byte-wise; Postgres by the
database's collation, which is C.UTF-8 on the test machines. Under another collation (en_US) ORDER BY,
min/max and < on text differ: a property of the server, not of the translation.

Rows come from formulas, not randomness, and include the awkward cases the corpus needs: NULLs,
mixed-case and non-ASCII strings, a month/year boundary, a leap day, ties and an orphan order.
"""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

# Portable type names, and how each engine spells the ones that differ.
ENGINE_TYPES = {"duckdb": {}, "postgres": {"JSON": "JSONB"}}

TIERS = ("gold", "silver", "bronze", None)
COUNTRIES = ("DE", "FR", None, "US", "de")
STATUSES = ("shipped", "Shipped", "cancelled", "PENDING", "returned")
EVENT_TYPES = ("page_view", "click", "signup", "purchase")
PATHS = ("/home", "/product/42?ref=mail", "/Product/7", "/cart?step=2&x=1", "/search?q=red+shoes")


def _customers() -> list[tuple]:
    rows = []
    for i in range(1, 13):
        name = ("Ada Lovelace", "  bob smith ", "Chloé Dubois", "dave O'Brien", "Eve", "frank_jones",
                "Grace Hopper", "heidi", "Ivan Petrov", "Judy", "KARL MARX", "li na")[i - 1]
        email = None if i % 5 == 0 else f"{name.strip().split()[0].lower()}{i}@{('shop.com', 'Example.org')[i % 2]}"
        rows.append((i, name, email, COUNTRIES[i % 5], TIERS[i % 4], date(2023, 11, 1) + timedelta(days=17 * i),
                     None if i % 4 == 0 else round(i * 1.37 - 3.5, 2), i % 3 == 0))
    return rows


def _orders() -> list[tuple]:
    rows = []
    start = datetime(2023, 12, 20, 8, 30)
    for i in range(1, 41):
        customer = None if i == 17 else (99 if i == 23 else (i * 7) % 12 + 1)  # 99: an orphan order
        amount = None if i % 11 == 0 else Decimal((i * 3719) % 25000) / 100
        ordered_at = start + timedelta(days=(i * 5) % 83, hours=(i * 7) % 24, minutes=(i * 13) % 60)
        shipped_at = None if i % 4 == 0 else ordered_at + timedelta(days=i % 6, hours=i % 5)
        note = None if i % 6 else (str(i) if i % 12 == 0 else f"note {i}")  # some notes cast to integers
        rows.append((i, customer, STATUSES[i % 5], amount, ordered_at, shipped_at, i % 3 + 1, note))
    return rows


def _events() -> list[tuple]:
    rows = []
    start = datetime(2024, 2, 27, 22, 0, tzinfo=timezone.utc)
    for i in range(1, 31):
        payload = {"path": PATHS[i % 5], "ms": (i * 97) % 1000, "tags": ["a", "b"][: i % 3],
                   "device": {"os": ("ios", "android", "web")[i % 3]}}
        if i % 7 == 0:
            del payload["ms"]
        if i % 4:
            payload["utm source"] = ("mail", "ads", None)[i % 3]  # a key that needs quoting; JSON null
        rows.append((i, (i * 5) % 12 + 1, EVENT_TYPES[i % 4], start + timedelta(hours=i * 5, minutes=i * 11),
                     json.dumps(payload)))
    return rows


TABLES: dict[str, tuple[tuple[tuple[str, str], ...], list[tuple]]] = {
    "customers": ((("customer_id", "INTEGER"), ("name", "TEXT"), ("email", "TEXT"), ("country", "TEXT"),
                   ("tier", "TEXT"), ("signed_up", "DATE"), ("score", "DOUBLE PRECISION"),
                   ("is_vip", "BOOLEAN")), _customers()),
    "orders": ((("order_id", "INTEGER"), ("customer_id", "INTEGER"), ("status", "TEXT"),
                ("amount", "NUMERIC(10, 2)"), ("ordered_at", "TIMESTAMP"), ("shipped_at", "TIMESTAMP"),
                ("quantity", "INTEGER"), ("note", "TEXT")), _orders()),
    "events": ((("event_id", "INTEGER"), ("customer_id", "INTEGER"), ("event_type", "TEXT"),
                ("occurred_at", "TIMESTAMPTZ"), ("payload", "JSON")), _events()),
}


def ddl(engine: str) -> list[str]:
    types = ENGINE_TYPES[engine]
    return [f"create table {name} ({', '.join(f'{c} {types.get(t, t)}' for c, t in columns)})"
            for name, (columns, _) in TABLES.items()]


def load_duckdb(con) -> None:
    """Create and fill the tables in a DuckDB connection (session time zone UTC)."""
    con.execute("set TimeZone = 'UTC'")
    for statement in ddl("duckdb"):
        con.execute(statement)
    for name, (columns, rows) in TABLES.items():
        con.executemany(f"insert into {name} values ({', '.join('?' for _ in columns)})", rows)


def load_postgres(con) -> None:
    """Create and fill the tables in a psycopg connection (session time zone UTC)."""
    con.execute("set TimeZone = 'UTC'")
    for statement in ddl("postgres"):
        con.execute(statement)
    for name, (columns, rows) in TABLES.items():
        with con.cursor() as cur:
            cur.executemany(f"insert into {name} values ({', '.join('%s' for _ in columns)})", rows)
    con.commit()
