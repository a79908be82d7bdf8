"""An HTTP session that retries what is worth retrying: 429 (honouring Retry-After), 5xx, timeouts and
dropped connections, with exponential backoff and full jitter; it gives up after `max_attempts` with a
`RequestFailed` that says what happened in words, naming the URL path only (the query may carry a key)."""
from __future__ import annotations

import logging
import random
import time
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger("elt.sources")
RETRY_STATUSES = {429, 500, 502, 503, 504}


class RequestFailed(Exception):
    """The last answer to a request (or the lack of one): `GET /v1/customers answered 404 Not Found`."""

    def __init__(self, method: str, path: str, problem: str, status: int | None = None, attempts: int = 1,
                 body: str = "") -> None:
        self.method, self.path, self.problem, self.status, self.attempts = method, path, problem, status, attempts
        self.body = body  # the start of the answer, for the caller to show once it is scrubbed of secrets
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{method} {path} {problem}{tries}")


class RetryingSession(requests.Session):
    def __init__(self, max_attempts: int, backoff_seconds: float, max_backoff_seconds: float,
                 timeout_seconds: float) -> None:
        super().__init__()
        self.max_attempts, self.backoff, self.max_backoff = max_attempts, backoff_seconds, max_backoff_seconds
        self.timeout = timeout_seconds

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        where = urlsplit(request.url).path  # never the query: it may carry an API key
        attempt = 0
        while True:
            attempt += 1
            try:
                # dlt's client raises for bad statuses in a response hook, inside send()
                response = super().send(request, **kwargs)
                if response.status_code not in RETRY_STATUSES:
                    return response
                failure: Exception = requests.HTTPError(f"{response.status_code} for {where}", response=response)
            except (requests.Timeout, requests.ConnectionError, requests.HTTPError) as err:
                failure = err
            response = getattr(failure, "response", None)
            retryable = response is None or response.status_code in RETRY_STATUSES
            if not retryable or attempt == self.max_attempts:
                # not chained: requests' own message quotes the whole URL, query (and a key in it) included
                raise _failed(request, where, failure, attempt, kwargs["timeout"])
            problem = f"HTTP {response.status_code}" if response is not None else type(failure).__name__
            wait = (self._retry_after(response) if response is not None else None) or self._backoff(attempt)
            log.warning("%s %s: %s, attempt %d of %d, retrying in %.1f s", request.method, where, problem,
                        attempt, self.max_attempts, wait)
            time.sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Full jitter: many clients failing together do not come back together."""
        return random.uniform(0, min(self.max_backoff, self.backoff * 2 ** (attempt - 1)))

    def _retry_after(self, response: requests.Response) -> float | None:
        header = response.headers.get("Retry-After", "").strip()
        if not header:
            return None
        if header.isdigit():
            return min(float(header), self.max_backoff)
        try:
            return min(max(0.0, parsedate_to_datetime(header).timestamp() - time.time()), self.max_backoff)
        except (TypeError, ValueError):
            return None


def _failed(request: requests.PreparedRequest, where: str, failure: Exception, attempts: int,
            timeout: Any) -> RequestFailed:
    response = getattr(failure, "response", None)
    method = request.method or "GET"
    if response is not None:
        reason = response.reason or _phrase(response.status_code)
        return RequestFailed(method, where, f"answered {response.status_code} {reason}".rstrip(),
                             response.status_code, attempts, response.text[:200])
    host = urlsplit(request.url).netloc.rpartition("@")[2]  # never user:password@
    problem = (f"got no answer within {timeout} s" if isinstance(failure, requests.Timeout)
               else f"could not reach {host}")
    return RequestFailed(method, where, problem, None, attempts)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
