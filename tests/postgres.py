"""Postgres for tests: reachability, and scratch databases that are dropped afterwards.

Tests that need Postgres skip with a reason when it is unreachable, unless ELT_REQUIRE_POSTGRES is set
(CI sets it): then they fail.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

import pytest

# A password in the DSN although the server trusts local connections: the secret-scan test looks for it in
# every output (password-less DSNs are tested on their own).
TEST_PASSWORD = "elt-test-S3cret-pw"
PG_ADMIN = os.environ.get("ELT_TEST_PG_ADMIN_DSN", f"postgresql://postgres:{TEST_PASSWORD}@127.0.0.1:5432/postgres")


def postgres_reachable() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_ADMIN, connect_timeout=3).close()
        return True
    except Exception:  # any failure means: not usable here
        return False


def required() -> bool:
    return bool(os.environ.get("ELT_REQUIRE_POSTGRES"))


def require() -> None:
    """Skip (or, where Postgres is required, fail) a test that needs Postgres when it is unreachable."""
    if not postgres_reachable():
        if required():
            pytest.fail(f"ELT_REQUIRE_POSTGRES is set but Postgres is unreachable at {where()}")
        pytest.skip(f"needs PostgreSQL at {where()} (set ELT_TEST_PG_ADMIN_DSN to use another)")


def where() -> str:
    """The admin DSN without its password, for messages."""
    parts = urlsplit(PG_ADMIN)
    return f"{parts.hostname}:{parts.port or 5432} as {parts.username}"


def dsn(database: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{database}"


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new Postgres database, dropped afterwards; yields its name."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f"create database {name}")
    try:
        yield name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f"drop database if exists {name} with (force)")
