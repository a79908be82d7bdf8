from datetime import datetime, timedelta, timezone

import pyarrow as pa

from sources.shop import Shop, _us

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


def window(table, lo: datetime, hi: datetime) -> pa.Table:
    return getattr(Shop(START, 6, 24), f"{table}_window")(_us(lo), _us(hi))


def test_deterministic():
    a = window("orders", START, START + timedelta(days=3))
    b = window("orders", START, START + timedelta(days=3))
    assert a.equals(b) and a.num_rows > 0


def test_windows_partition_changes():
    """Rows changed in (t0, t2] are those changed in (t0, t1] or (t1, t2], at their latest state."""
    t0, t1, t2 = START - timedelta(seconds=1), START + timedelta(days=5), START + timedelta(days=9)
    for table, key in (("orders", "order_id"), ("customers", "customer_id"), ("payments", "payment_id")):
        whole = window(table, t0, t2).to_pylist()
        first, second = window(table, t0, t1).to_pylist(), window(table, t1, t2).to_pylist()
        latest = {r[key]: r for r in first} | {r[key]: r for r in second}
        assert sorted(latest.values(), key=lambda r: r[key]) == sorted(whole, key=lambda r: r[key]), table


def test_status_moves_forward_and_nothing_in_the_future():
    t1, t2 = START + timedelta(days=5), START + timedelta(days=6)
    before = {r["order_id"]: r for r in window("orders", START - timedelta(seconds=1), t1).to_pylist()}
    changed = window("orders", t1, t2).to_pylist()
    progressed = [r for r in changed if r["order_id"] in before]
    assert progressed, "a day later some old orders have a new status"
    rank = {"placed": 0, "paid": 1, "shipped": 2, "delivered": 3, "cancelled": 1}
    assert all(rank[r["status"]] >= rank[before[r["order_id"]]["status"]] for r in progressed)
    assert all(t1 < r["updated_at"] <= t2 for r in changed)


def test_no_change_window_is_empty():
    t = START + timedelta(days=5)
    assert window("orders", t, t).num_rows == 0


def test_chunks_at_one_moment_hold_each_row_once():
    shop = Shop(START, 6, 24)
    lo, now = _us(START - timedelta(seconds=1)), _us(START + timedelta(days=70))
    step = _us(START + timedelta(days=30)) - _us(START)
    for table, key in (("orders", "order_id"), ("customers", "customer_id")):
        window = getattr(shop, f"{table}_window")
        chunks = [window(a, min(now, a + step), now) for a in range(lo, now, step)]
        keys = [k for c in chunks for k in c.column(key).to_pylist()]
        assert len(keys) == len(set(keys)) == window(lo, now).num_rows, table
