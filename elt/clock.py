"""The toolkit's notion of "now": wall time, unless ELT_NOW pins it.

Pinning moves the demo shop's clock and the "now" freshness checks measure against together, so a demo
or a test can replay a day exactly.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from elt.errors import ConfigError

CLOCK_ENV = "ELT_NOW"


def now() -> datetime:
    pinned = os.environ.get(CLOCK_ENV)
    if not pinned:
        return datetime.now(timezone.utc)
    try:
        value = datetime.fromisoformat(pinned.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{CLOCK_ENV}={pinned!r} is not an ISO timestamp",
                          hint='e.g. ELT_NOW="2026-01-10T00:00:00Z", or unset it for wall time') from None
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
