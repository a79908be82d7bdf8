"""MariaDB/MySQL for tests: reachability and scratch databases that are dropped afterwards.

Tests that need it skip with a reason when it is unreachable, unless ELT_REQUIRE_MYSQL is set (CI sets
it): then they fail.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator
from urllib.parse import urlsplit

import pytest

MYSQL_ADMIN = os.environ.get("ELT_TEST_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")


def _connect(database: str | None = None):
    import pymysql

    parts = urlsplit(MYSQL_ADMIN)
    return pymysql.connect(host=parts.hostname, port=parts.port or 3306, user=parts.username,
                           password=parts.password or "", database=database, autocommit=True, connect_timeout=3)


def require() -> None:
    try:
        _connect().close()
    except Exception as err:  # any failure means: not usable here
        where = f"{urlsplit(MYSQL_ADMIN).hostname}:{urlsplit(MYSQL_ADMIN).port or 3306}"
        if os.environ.get("ELT_REQUIRE_MYSQL"):
            pytest.fail(f"ELT_REQUIRE_MYSQL is set but MariaDB/MySQL is unreachable at {where}: {err}")
        pytest.skip(f"needs MariaDB/MySQL at {where} (set ELT_TEST_MYSQL_DSN to use another)")


def dsn(database: str) -> str:
    return MYSQL_ADMIN.rsplit("/", 1)[0] + f"/{database}"


def execute(database: str, *statements: str) -> list[tuple]:
    with _connect(database) as con, con.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        return list(cursor.fetchall())


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with _connect() as admin, admin.cursor() as cursor:
        cursor.execute(f"create database {name}")
    try:
        yield name
    finally:
        with _connect() as admin, admin.cursor() as cursor:
            cursor.execute(f"drop database if exists {name}")
