"""A synthetic shop (customers, orders, payments) that behaves like a live OLTP database.

Every row is a pure function of its id and the shop's clock, so the data is deterministic and a window
(last cursor, now] can be generated directly: each run yields only rows created or changed since the
stored cursor (new orders, orders moving placed -> paid -> shipped -> delivered, customers upgraded).
The clock is elt.clock: wall time unless ELT_NOW pins it (tests, reproducible demos).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator

import dlt
import numpy as np
import pyarrow as pa

from elt import clock
from sources.shop_schema import SCHEMAS, TS

US = 1_000_000
HOUR = 3600 * US
DAY = 24 * HOUR

PRIMARY_KEYS = {"customers": "customer_id", "orders": "order_id", "payments": "payment_id"}
COUNTRIES = np.array(["DE", "FR", "NL", "ES", "IT", "PL", "SE", "US"])
METHODS = np.array(["card", "paypal", "invoice", "voucher"])
CUSTOMER_UPGRADE_AFTER = 30 * DAY
ORDER_MAX_LAG = 7 * DAY  # an order's last status change happens within this time of its creation


def _mix(ids: np.ndarray, salt: int) -> np.ndarray:
    """splitmix64: a deterministic pseudo-random uint64 per id, independent for each salt."""
    with np.errstate(over="ignore"):
        z = ids.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(salt)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _between(ids: np.ndarray, salt: int, low: int, high: int) -> np.ndarray:
    return (low + _mix(ids, salt) % np.uint64(high - low)).astype(np.int64)


def _us(moment: datetime) -> int:
    return int(moment.timestamp() * US)


def _ts(values: np.ndarray) -> pa.Array:
    return pa.array(values, type=pa.int64()).cast(TS)


class Shop:
    """The shop's deterministic history.

    `*_window(lo, hi, now)` returns each row as it stands at `now` (default `hi`) if its updated_at then
    falls in (lo, hi]: consecutive windows with one `now` partition the changes, each row exactly once.
    """

    def __init__(self, start: datetime, orders_per_hour: int, customers_per_day: int) -> None:
        self.start = _us(start)
        self.order_every = HOUR // orders_per_hour
        self.customer_every = DAY // customers_per_day

    def _ids(self, every: int, lo: int, hi: int, lag: int) -> np.ndarray:
        """Ids whose creation time can fall in (lo - lag, hi]; work is proportional to the window."""
        first = max(1, (lo - lag - self.start) // every)
        last = max(0, (hi - self.start) // every + 1)
        return np.arange(first, last + 1, dtype=np.int64)

    def _created(self, ids: np.ndarray, every: int, salt: int) -> np.ndarray:
        return self.start + (ids - 1) * every + _between(ids, salt, 0, every)

    def customers_window(self, lo: int, hi: int, now: int | None = None) -> pa.Table:
        now = hi if now is None else now
        ids = self._ids(self.customer_every, lo, hi, CUSTOMER_UPGRADE_AFTER)
        created = self._created(ids, self.customer_every, 1)
        upgraded_at = created + CUSTOMER_UPGRADE_AFTER
        upgrades = (ids % 4 == 0) & (upgraded_at <= now)
        updated = np.where(upgrades, upgraded_at, created)
        keep = (created <= now) & (updated > lo) & (updated <= hi)
        ids, created, updated, upgrades = ids[keep], created[keep], updated[keep], upgrades[keep]
        return pa.table({
            "customer_id": ids,
            "name": pa.array([f"Customer {i}" for i in ids], pa.string()),
            "email": pa.array([f"customer{i}@example.com" for i in ids], pa.string()),
            "country": COUNTRIES[_mix(ids, 2) % np.uint64(len(COUNTRIES))],
            "tier": np.where(upgrades, "silver", "bronze"),
            "created_at": _ts(created),
            "updated_at": _ts(updated),
        }, schema=SCHEMAS["customers"])

    def _order_timeline(self, ids: np.ndarray) -> dict[str, np.ndarray]:
        created = self._created(ids, self.order_every, 3)
        cancelled = _mix(ids, 4) % np.uint64(20) == 0
        paid = created + _between(ids, 5, 10 * 60 * US, 2 * HOUR)
        shipped = paid + _between(ids, 6, 6 * HOUR, 48 * HOUR)
        delivered = shipped + _between(ids, 7, 24 * HOUR, 96 * HOUR)
        cancelled_at = created + _between(ids, 8, HOUR, 12 * HOUR)
        return {"created": created, "cancelled": cancelled, "paid": paid, "shipped": shipped,
                "delivered": delivered, "cancelled_at": cancelled_at}

    def orders_window(self, lo: int, hi: int, now: int | None = None) -> pa.Table:
        now = hi if now is None else now
        ids = self._ids(self.order_every, lo, hi, ORDER_MAX_LAG)
        t = self._order_timeline(ids)
        status = np.full(len(ids), "placed", dtype=object)
        updated = t["created"].copy()
        for name in ("paid", "shipped", "delivered"):
            reached = ~t["cancelled"] & (t[name] <= now)
            status[reached], updated[reached] = name, t[name][reached]
        gone = t["cancelled"] & (t["cancelled_at"] <= now)
        status[gone], updated[gone] = "cancelled", t["cancelled_at"][gone]
        keep = (t["created"] <= now) & (updated > lo) & (updated <= hi)
        n_customers = np.maximum(1, (t["created"] - self.start) // self.customer_every)
        customer = 1 + (_mix(ids, 9) % n_customers.astype(np.uint64)).astype(np.int64)
        amount = _between(ids, 10, 500, 50_000) / 100.0
        return pa.table({
            "order_id": ids[keep],
            "customer_id": customer[keep],
            "status": pa.array(status[keep].tolist(), pa.string()),
            "amount": amount[keep],
            "created_at": _ts(t["created"][keep]),
            "updated_at": _ts(updated[keep]),
        }, schema=SCHEMAS["orders"])

    def payments_window(self, lo: int, hi: int, now: int | None = None) -> pa.Table:  # payments never change
        ids = self._ids(self.order_every, lo, hi, 2 * HOUR)
        t = self._order_timeline(ids)
        keep = ~t["cancelled"] & (t["paid"] > lo) & (t["paid"] <= hi)
        amount = _between(ids, 10, 500, 50_000) / 100.0
        return pa.table({
            "payment_id": ids[keep],
            "order_id": ids[keep],
            "method": METHODS[_mix(ids[keep], 11) % np.uint64(len(METHODS))],
            "amount": amount[keep],
            "paid_at": _ts(t["paid"][keep]),
            "updated_at": _ts(t["paid"][keep]),
        }, schema=SCHEMAS["payments"])


@dlt.source(name="shop")
def shop_source(start: datetime, orders_per_hour: int = 6, customers_per_day: int = 24) -> list:
    """The demo shop as a dlt source: three incremental resources merged on their primary keys."""
    shop = Shop(start, orders_per_hour, customers_per_day)
    hi = _us(clock.now())
    initial = start - timedelta(microseconds=1)

    def make(table: str):
        window = getattr(shop, f"{table}_window")

        # dlt binds the cursor through this default argument: that is its API, not a shared mutable default.
        def rows(updated_at=dlt.sources.incremental("updated_at", initial_value=initial)) -> Iterator[pa.Table]:  # noqa: B008
            lo = _us(updated_at.last_value)
            # Chunks of at most 30 days keep memory bounded by the chunk, not by the history.
            for chunk_lo in range(lo, hi, 30 * DAY):
                batch = window(chunk_lo, min(hi, chunk_lo + 30 * DAY), hi)
                if batch.num_rows:
                    yield batch

        return dlt.resource(rows, name=table, write_disposition="merge", primary_key=PRIMARY_KEYS[table])

    return [make(table) for table in SCHEMAS]
