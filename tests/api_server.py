"""A real HTTP server on loopback for tests of REST API sources: paginated JSON endpoints, auth, injected faults.

Data, auth, faults, outages and fixed answers are plain attributes that tests change between runs; every
request is recorded.
"""
from __future__ import annotations

import base64
import json
import threading
import time
from datetime import datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

Row = dict[str, Any]
Response = tuple[int, dict[str, str], bytes]


def _timestamps(n: int, start: str) -> list[str]:
    """`n` ISO timestamps with a 'Z' suffix, one minute apart from `start`."""
    first = datetime.fromisoformat(start)
    return [(first + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(n)]


def make_customers(n: int, start: str = "2026-01-01T00:00:00Z") -> list[Row]:
    """Customers with ids 1..n, updated one minute apart."""
    return [{"id": i, "name": f"Customer {i}", "email": f"customer{i}@example.com", "updated_at": at}
            for i, at in enumerate(_timestamps(n, start), start=1)]


def make_orders(n: int, customers: list[Row], start: str = "2026-01-01T00:00:00Z") -> list[Row]:
    """Orders with ids 1..n spread round-robin over `customers`, updated one minute apart."""
    return [{"id": i, "customer_id": customers[(i - 1) % len(customers)]["id"], "amount": round(i * 7.25 % 500 + 1, 2),
             "updated_at": at} for i, at in enumerate(_timestamps(n, start), start=1)]


def make_products(n: int, start: str = "2026-01-01T00:00:00Z") -> list[Row]:
    """Products with ids 1..n."""
    return [{"id": i, "name": f"Product {i}", "price": round(i * 1.5, 2), "updated_at": at}
            for i, at in enumerate(_timestamps(n, start), start=1)]


def make_events(n: int, start: str = "2026-01-01T00:00:00Z") -> list[Row]:
    """Events with ids 1..n cycling through three kinds."""
    kinds = ("click", "view", "purchase")
    return [{"id": i, "kind": kinds[i % 3], "at": at} for i, at in enumerate(_timestamps(n, start), start=1)]


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return status, headers or {}, json.dumps(body, default=str).encode()


def _window(rows: list[Row], updated_since: str | None) -> list[Row]:
    """Rows sorted by (updated_at, id) as strings, kept if `updated_at >= updated_since`; never fails on bad rows."""
    ordered = sorted(rows, key=lambda row: (str(row.get("updated_at", "")), str(row.get("id"))))
    if updated_since is None:
        return ordered
    return [row for row in ordered if "updated_at" not in row or str(row["updated_at"]) >= updated_since]


class ApiServer:
    """Serves the test API from a daemon thread on 127.0.0.1 with a free port."""

    def __init__(self) -> None:
        self.customers: list[Row] = make_customers(25)
        self.orders: list[Row] = make_orders(60, self.customers)
        self.products: list[Row] = make_products(15)
        self.events: list[Row] = make_events(23)
        self.auth: tuple[str, ...] | None = ("bearer", "s3cret-token")
        self.faults: list[tuple[Any, ...]] = []
        self.down: set[str] = set()
        # path prefix -> (status, content type, body), answered on every request instead of the endpoint's own
        # answer: a login page, JSON that is no list of rows
        self.fixed: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[Row] = []
        self.lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False  # server_close() must not wait for a handler sleeping in a "timeout" fault
        self._httpd.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="api-server", daemon=True)

    @property
    def url(self) -> str:
        """Base URL with a trailing slash, e.g. http://127.0.0.1:PORT/."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> ApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def requests_to(self, prefix: str) -> list[Row]:
        """Recorded requests whose path starts with `prefix`."""
        with self.lock:
            return [entry for entry in self.requests if entry["path"].startswith(prefix)]

    def authorized(self, headers: Message, query: dict[str, str]) -> bool:
        """Whether the request carries the credentials `self.auth` asks for (header names are case-insensitive)."""
        if self.auth is None:
            return True
        kind, *args = self.auth
        given = headers.get("Authorization") or ""
        if kind == "bearer":
            return given == f"Bearer {args[0]}"
        if kind == "api_key":
            name, key = args
            return headers.get(name) == key or query.get(name) == key
        if kind == "basic":
            expected = base64.b64encode(f"{args[0]}:{args[1]}".encode()).decode()
            return given == f"Basic {expected}"
        raise ValueError(f"unknown auth kind {kind!r}")

    def fixed_answer(self, path: str) -> tuple[int, str, bytes] | None:
        return next((answer for prefix, answer in self.fixed.items() if path.startswith(prefix)), None)

    def take_fault(self, path: str) -> tuple[Any, ...] | None:
        """Remove and return the first fault whose prefix matches `path`."""
        with self.lock:
            for index, fault in enumerate(self.faults):
                if path.startswith(fault[0]):
                    return self.faults.pop(index)
        return None

    def answer(self, path: str, query: dict[str, str]) -> Response:
        """The normal response of an endpoint."""
        parts = path.strip("/").split("/")
        if parts[0] == "v1":  # the same API under a versioned base_url
            parts = parts[1:]
        since = query.get("updated_since")
        try:
            if parts == ["customers"]:
                rows = _window(self.customers, since)
                offset, limit = int(query.get("cursor", 0)), int(query.get("limit", 10))
                after = offset + max(limit, 1)
                next_cursor = str(after) if after < len(rows) else None
                return _json(200, {"data": rows[offset:after], "next_cursor": next_cursor})
            if parts == ["orders"]:
                rows = _window(self.orders, since)
                page, per_page = int(query.get("page", 1)), max(int(query.get("per_page", 20)), 1)
                headers: dict[str, str] = {}
                if page * per_page < len(rows):
                    headers["Link"] = f'<{self.url}orders?{urlencode({**query, "page": page + 1})}>; rel="next"'
                return _json(200, rows[(page - 1) * per_page:page * per_page], headers)
            if parts == ["products"]:
                offset, limit = int(query.get("offset", 0)), int(query.get("limit", 10))
                return _json(200, {"items": self.products[offset:offset + limit], "total": len(self.products)})
            if parts == ["events"]:
                page, size = int(query.get("page", 1)), max(int(query.get("page_size", 10)), 1)
                pages = -(-len(self.events) // size)
                return _json(200, {"results": self.events[(page - 1) * size:page * size], "total_pages": pages})
            if len(parts) == 3 and parts[0] == "customers" and parts[2] == "orders":
                return _json(200, [order for order in self.orders if str(order.get("customer_id")) == parts[1]])
        except ValueError as error:
            return _json(400, {"error": f"bad parameter: {error}"})
        return _json(404, {"error": "not found", "path": path})


class _Handler(BaseHTTPRequestHandler):
    server: ThreadingHTTPServer

    def do_GET(self) -> None:
        api: ApiServer = self.server.api  # type: ignore[attr-defined]
        url = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(url.query, keep_blank_values=True).items()}
        headers = dict(self.headers)
        arrived = time.monotonic()
        delay = 0.0
        content_type = "application/json"
        if not api.authorized(self.headers, query):
            status, extra, body = _json(401, {"error": "unauthorized"})
        elif any(url.path.startswith(prefix) for prefix in api.down):
            status, extra, body = _json(503, {"error": "service unavailable"})
        elif fixed := api.fixed_answer(url.path):
            status, content_type, body = fixed
            extra = {}
        else:
            fault = api.take_fault(url.path)
            kind, arg = (fault[1], fault[2] if len(fault) > 2 else None) if fault else (None, None)
            if kind == "429":
                status, extra, body = _json(429, {"error": "rate limited"}, {"Retry-After": str(arg or 1)})
            elif kind in ("500", "503"):
                status, extra, body = _json(int(kind), {"error": f"injected {kind}"})
            elif kind == "malformed_json":
                status, extra, body = 200, {}, b'{"data": ['
            elif kind in (None, "timeout"):
                delay = float(5 if arg is None else arg) if kind == "timeout" else 0.0
                status, extra, body = api.answer(url.path, query)
            else:
                raise ValueError(f"unknown fault kind {kind!r}")
        with api.lock:
            api.requests.append({"path": url.path, "query": query, "status": status, "time": arrived,
                                 "headers": headers})
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a "timeout" fault)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log on stderr."""


@pytest.fixture
def api_server() -> Iterator[ApiServer]:
    """A started ApiServer, stopped after the test."""
    with ApiServer() as server:
        yield server
