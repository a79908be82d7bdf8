"""The demo shop's tables as Arrow schemas: what sources/shop.py yields and what lint expects before a load."""
from __future__ import annotations

import pyarrow as pa

TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([
        pa.field("customer_id", pa.int64(), nullable=False), ("name", pa.string()), ("email", pa.string()),
        ("country", pa.string()), ("tier", pa.string()), ("created_at", TS), pa.field("updated_at", TS, nullable=False),
    ]),
    "orders": pa.schema([
        pa.field("order_id", pa.int64(), nullable=False), ("customer_id", pa.int64()), ("status", pa.string()),
        ("amount", pa.float64()), ("created_at", TS), pa.field("updated_at", TS, nullable=False),
    ]),
    "payments": pa.schema([
        pa.field("payment_id", pa.int64(), nullable=False), ("order_id", pa.int64()), ("method", pa.string()),
        ("amount", pa.float64()), ("paid_at", TS), pa.field("updated_at", TS, nullable=False),
    ]),
}
