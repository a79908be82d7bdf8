"""REST API sources: dlt's REST client (paginators, auth) with our retrying session, a cursor bound to a
request parameter, parent -> child resources, and rows checked against the declared columns.

The cursor lives in dlt's resource state, which is committed with the load package: it moves only when
the rows it covers are loaded. Rows that fail the checks go to dead letters, never into the cursor.
"""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from typing import Any, Iterator

import dlt
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.rest_api.config_setup import create_auth, create_paginator

from elt.config import Source
from elt.errors import SourceError
from elt.source_config import Resource
from sources.dead_letters import DeadLetters
from sources.hints import hints
from sources.http import RetryingSession
from sources.secrets import secret
from sources.validate import Checker

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def rest_source(source: Source, letters: DeadLetters) -> Any:
    opts = source.options
    session = RetryingSession(opts["max_attempts"], opts["backoff_seconds"], opts["max_backoff_seconds"],
                              opts["timeout_seconds"])
    client = RESTClient(base_url=opts["base_url"], headers=opts["headers"], auth=_auth(opts["auth"], source),
                        session=session)
    built: dict[str, Any] = {}
    for spec in _parents_first(opts["resources"]):
        parent = spec.options.get("parent")
        if parent:
            built[spec.name] = dlt.transformer(
                _child_rows(client, spec, letters), name=spec.name, data_from=built[parent["resource"]],
                **hints(spec))
        else:
            built[spec.name] = dlt.resource(_rows(client, spec, letters), name=spec.name, **hints(spec))
    return dlt.source(lambda: [*built.values(), letters.resource()], name=source.name)()


def _auth(auth: dict | None, source: Source) -> Any:
    if auth is None:
        return None
    kind = auth["type"]
    if kind == "bearer":
        return create_auth({"type": "bearer", "token": secret(auth["token_env"], source)})
    if kind == "api_key":
        return create_auth({"type": "api_key", "name": auth["name"], "location": auth["location"],
                            "api_key": secret(auth["key_env"], source)})
    return create_auth({"type": "http_basic", "username": auth["username"],
                        "password": secret(auth["password_env"], source)})


def _parents_first(resources: dict[str, Resource]) -> list[Resource]:
    ordered: list[Resource] = []
    pending = list(resources.values())
    while pending:
        ready = [r for r in pending if not r.options.get("parent")
                 or r.options["parent"]["resource"] in {o.name for o in ordered}]
        if not ready:
            raise SourceError(f"resources {', '.join(r.name for r in pending)} are each other's parents")
        ordered += ready
        pending = [r for r in pending if r not in ready]
    return ordered


def _pages(client: RESTClient, spec: Resource, path: str, params: dict) -> Iterator[list]:
    paginator = create_paginator(dict(spec.options["paginator"])) if "paginator" in spec.options else None
    yield from client.paginate(path, params=params, paginator=paginator,
                               data_selector=spec.options.get("data_selector"))


def _rows(client: RESTClient, spec: Resource, letters: DeadLetters) -> Any:
    checker = Checker(letters.source, spec)

    def rows() -> Iterator[Any]:
        cursor = _Cursor(spec, dlt.current.resource_state())
        params = dict(spec.options.get("params", {}))
        if cursor.param and cursor.start is not None:
            params[cursor.param] = cursor.request_value()
        for page in _pages(client, spec, spec.options["path"], params):
            good, bad = checker.rows(list(page))
            good = cursor.admit(good)
            if good:
                yield good
            letters.add(spec.name, bad)
        cursor.save()
    return rows


def _child_rows(client: RESTClient, spec: Resource, letters: DeadLetters) -> Any:
    parent = spec.options["parent"]
    key = f"_{parent['resource']}_{parent['field']}"
    checker = Checker(letters.source, spec, extra_columns=(key,))

    def children(parent_rows: list[dict]) -> Iterator[Any]:
        for parent_row in parent_rows:
            value = parent_row.get(parent["field"])
            placeholder = "{" + parent["param"] + "}"
            path, params = spec.options["path"], dict(spec.options.get("params", {}))
            if placeholder in path:
                path = path.replace(placeholder, str(value))
            else:
                params[parent["param"]] = value
            for page in _pages(client, spec, path, params):
                good, bad = checker.rows([row | {key: value} if isinstance(row, dict) else row for row in page])
                if good:
                    yield good
                letters.add(spec.name, bad)
    return children


class _Cursor:
    """Incremental state of one resource: rows at or past the last value pass, rows loaded at exactly the
    last value (kept by primary key) are not loaded twice."""

    def __init__(self, spec: Resource, state: dict) -> None:
        self.spec, self.state = spec, state
        inc = spec.incremental
        self.column = inc.cursor if inc else None
        self.param = inc.param if inc else None
        self.start = state.get("last_value", _text(inc.initial) if inc else None)
        self.seen_at_start = {tuple(key) for key in state.get("keys_at_last_value", [])}
        self.last, self.keys_at_last = self.start, set(self.seen_at_start)

    def request_value(self) -> str:
        """The last value as the API expects it: ISO 8601 for timestamps."""
        if isinstance(self.start, str) and self.start.endswith("Z") and STAMP.match(self.start):
            stamp = datetime.strptime(self.start, STAMP_FORMAT).replace(tzinfo=timezone.utc)
            return stamp.isoformat().replace("+00:00", "Z")
        return self.start

    def admit(self, rows: list[dict]) -> list[dict]:
        if self.column is None:
            return rows
        admitted = []
        for row in rows:
            value = _text(row.get(self.column))
            key = self._key(row)
            if self.start is not None and value is not None and value < self.start:
                continue
            if value == self.start and key in self.seen_at_start:
                continue
            admitted.append(row)
            if value is not None and (self.last is None or value > self.last):
                self.last, self.keys_at_last = value, set()
            if value == self.last:
                self.keys_at_last.add(key)
        return admitted

    def _key(self, row: dict) -> tuple:
        """The primary key, or without one the row's content: distinct rows sharing a cursor value all load."""
        if self.spec.primary_key:
            return tuple(_text(row.get(column)) for column in self.spec.primary_key)
        return (hashlib.sha256(json.dumps(row, sort_keys=True, default=str).encode()).hexdigest(),)

    def save(self) -> None:
        if self.column is not None and self.last is not None:
            self.state["last_value"] = self.last
            self.state["keys_at_last_value"] = [list(key) for key in self.keys_at_last]


def _text(value: Any) -> Any:
    """Timestamps become fixed-width UTC text, which orders like time and keeps the state plain JSON."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime(STAMP_FORMAT)
    return value
