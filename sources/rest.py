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
from urllib.parse import urlsplit

import dlt
import requests
from dlt.common import jsonpath
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.rest_api.config_setup import create_auth, create_paginator

from elt.config import Source
from elt.errors import ConfigError, EltError, SourceError
from elt.source_config import Resource
from sources.dead_letters import DeadLetters
from sources.hints import hints
from sources.http import RequestFailed, RetryingSession
from sources.secrets import redact, secret
from sources.validate import Checker

STAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def rest_source(source: Source, letters: DeadLetters) -> Any:
    opts = source.options
    session = RetryingSession(opts["max_attempts"], opts["backoff_seconds"], opts["max_backoff_seconds"],
                              opts["timeout_seconds"])
    client = _Client(base_url=opts["base_url"], headers=opts["headers"], auth=_auth(opts["auth"], source),
                     session=session)
    built: dict[str, Any] = {}
    for spec in _parents_first(opts["resources"]):
        parent = spec.options.get("parent")
        if parent:
            built[spec.name] = dlt.transformer(
                _child_rows(client, source, spec, letters), name=spec.name, data_from=built[parent["resource"]],
                **hints(spec))
        else:
            built[spec.name] = dlt.resource(_rows(client, source, spec, letters), name=spec.name, **hints(spec))
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


def _pages(client: RESTClient, source: Source, spec: Resource, path: str, params: dict) -> Iterator[list]:
    paginator = create_paginator(dict(spec.options["paginator"])) if "paginator" in spec.options else None
    try:
        yield from client.paginate(path, params=params, paginator=paginator,
                                   data_selector=spec.options.get("data_selector"))
    except RequestFailed as failure:
        raise _request_error(source, spec, failure) from None


def _request_error(source: Source, spec: Resource, failure: RequestFailed) -> EltError:
    """What went wrong with which request, and which key of elt.toml to look at."""
    table, key = f"[sources.{source.name}]", f"[sources.{source.name}.resources.{spec.name}]"
    excerpt = f" (first bytes: {_excerpt(redact(source, failure.body))})" if failure.body else ""
    if isinstance(failure, _NoRows):
        hint = {"not_json": f"check base_url in {table} and path in {key}: a login or error page answers like "
                            "this when the URL or the credentials are wrong",
                "broken": "the API sent broken JSON; run again, and if it persists ask the API's owners "
                          "(or check a proxy on the way)",
                "selector": f"check data_selector in {key}",
                "shape": f"check path and data_selector in {key}"}[failure.reason]
    elif failure.status in (401, 403):
        auth = source.options.get("auth") or {}
        names = [name for option, name in auth.items() if option.endswith("_env")]
        hint = (f"check the credentials in {', '.join(names)} (auth in {table})" if names
                else f"the API wants credentials: add auth to {table}")
        excerpt = ""
    elif failure.status == 404:
        hint, excerpt = f"check base_url in {table} and path in {key}", ""
    elif failure.status is None:
        hint = (f"check base_url in {table} and that the API is reachable from here "
                f"(timeout_seconds = {source.options['timeout_seconds']})")
    elif failure.status in (429, 500, 502, 503, 504):
        hint = f"the API kept failing; run again later, or raise max_attempts in {table}"
    else:
        hint = f"the API refused the request; check params and incremental in {key}"
    # what only a change to elt.toml or a secret can fix is a ConfigError: the flow does not retry those
    fixable = failure.status in (401, 403, 404) or isinstance(failure, _NoRows) and failure.reason != "broken"
    error = ConfigError if fixable else SourceError
    return error(f"source {source.name}: {failure}{excerpt}", hint=f"{hint}; the cursor did not move")


class _NoRows(RequestFailed):
    """An answer that is not the JSON rows the resource expects: `reason` is not_json (an HTML page), broken
    (cut-off or invalid JSON), selector (data_selector matches nothing, or no list) or shape (a JSON scalar)."""

    def __init__(self, response: requests.Response, problem: str, reason: str, show_body: bool = True) -> None:
        request = response.request
        super().__init__(request.method or "GET", urlsplit(request.url or "").path, f"answered {problem}",
                         response.status_code, body=response.text[:200] if show_body else "")
        self.reason = reason


class _Client(RESTClient):
    """dlt's REST client, naming an answer that is not the JSON a resource expects instead of failing to parse
    it (`Expecting value: line 1 column 1`) or loading nothing (a data_selector that matches nothing)."""

    def detect_data_selector(self, response: requests.Response) -> str:
        body = _json(response)
        if not isinstance(body, (dict, list)):
            raise _NoRows(response, f"{response.status_code} with a JSON {type(body).__name__}, "
                                    "not an object or a list of rows", "shape")
        return super().detect_data_selector(response)

    def extract_response(self, response: requests.Response, data_selector: jsonpath.TJsonPath) -> list[Any]:
        body = _json(response)
        found = jsonpath.find_values(data_selector, body)
        if not found:
            keys = isinstance(body, dict) and body
            what = f"keys: {', '.join(list(body)[:10])}" if keys else f"a JSON {type(body).__name__}"
            raise _NoRows(response, f"{response.status_code} with JSON that has no {data_selector!r} ({what})",
                          "selector", show_body=not keys)
        data = found[0] if len(found) == 1 else found
        if data is None:  # present but null: an empty page
            return []
        if isinstance(data, dict):  # a single row
            return [data]
        if not isinstance(data, list):
            raise _NoRows(response, f"{response.status_code} with a JSON {type(data).__name__} at "
                                    f"{data_selector!r}, not a list of rows", "selector")
        return data


def _json(response: requests.Response) -> Any:
    kind = response.headers.get("Content-Type", "no content type").split(";")[0].strip()
    if not response.content:
        raise _NoRows(response, f"{response.status_code} with {kind} and an empty body, not JSON", "not_json")
    try:
        return response.json()
    except requests.JSONDecodeError as err:
        if "json" not in kind:
            raise _NoRows(response, f"{response.status_code} with {kind}, not JSON", "not_json") from None
        cut = err.pos >= len(err.doc.rstrip())
        problem = (f"JSON cut off after {len(response.content)} bytes" if cut
                   else f"invalid JSON ({err.msg} at byte {err.pos})")
        raise _NoRows(response, f"{response.status_code} with {problem}", "broken") from None


def _excerpt(text: str, limit: int = 60) -> str:
    """The start of a body on one line, quoted."""
    flat = " ".join(text.split())
    return repr(flat[:limit] + ("..." if len(flat) > limit else ""))


def _rows(client: RESTClient, source: Source, spec: Resource, letters: DeadLetters) -> Any:
    checker = Checker(letters.source, spec)

    def rows() -> Iterator[Any]:
        cursor = _Cursor(spec, dlt.current.resource_state())
        params = dict(spec.options.get("params", {}))
        if cursor.param and cursor.start is not None:
            params[cursor.param] = cursor.request_value()
        for page in _pages(client, source, spec, spec.options["path"], params):
            good, bad = checker.rows(list(page))
            good = cursor.admit(good)
            if good:
                yield good
            letters.add(spec.name, bad)
        cursor.save()
    return rows


def _child_rows(client: RESTClient, source: Source, spec: Resource, letters: DeadLetters) -> Any:
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
            for page in _pages(client, source, spec, path, params):
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
