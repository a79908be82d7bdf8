"""An HTTP session that retries what is worth retrying: 429 (honouring Retry-After), 5xx, timeouts and
dropped connections, with exponential backoff and full jitter; it gives up after `max_attempts`."""
from __future__ import annotations

import logging
import random
import time
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

log = logging.getLogger("elt.sources")
RETRY_STATUSES = {429, 500, 502, 503, 504}


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
                raise failure
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
