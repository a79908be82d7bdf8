"""Benchmark: the quality gate on a 1M-row model, with its history and failed-row samples, against one
hand-written aggregate query that measures the same things.

    cd /work/main && .venv/bin/python bench/gate.py [--rows 1000000] [--pairs 5] [--check]

1. Builds (untimed, once per invocation) a DuckDB file holding a candidate `_elt.orders__v2` of `--rows` rows
   and a published `_elt.orders__v1` 5 % smaller. In the candidate, 1 % of the rows have no customer, 0.5 %
   a status the contract does not allow and 0.1 % a negative amount; order_id is unique.
2. Measures, pairs in turn, each side a whole fresh process (start-up, imports and exit included):
   - toolkit: load the contract, verify it with Soda (row count, missing, duplicate, invalid values and
     range, a failed_rows query, level warn so the gate passes and reports), the volume change against the
     published version, the gate's decision, the rows behind each check that did not pass (values, up to
     10 rows, the SQL), the outcomes and samples appended to `_elt.check_results` / `_elt.failed_rows`;
   - raw: duckdb computing the same counts in one aggregate query (plus the published count) and
     inserting one row of results.
3. Prints, over the pairs, min/median/max of two ratios toolkit / raw:
   - the gate stage: from the open connection to the committed records (the issue's target, <= 1.5);
   - the whole process: what a user waits for when only the gate runs (Soda's import, ~0.6 s, is in it;
     the raw side imports only duckdb).
   `--check` exits 1 when the median gate-stage ratio exceeds 1.5.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import ROOT, verdict, worker_main  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
STAGE_TARGET = 1.5
CANDIDATE, PUBLISHED = "_elt.orders__v2", "_elt.orders__v1"
STATUSES = ["placed", "paid", "shipped", "delivered", "cancelled"]
SQL_STATUSES = ", ".join(f"'{s}'" for s in STATUSES)
CONTRACT = f"""columns:
  - name: order_id
    checks:
      - missing:
      - duplicate:
  - name: customer_id
    checks:
      - missing:
          threshold: {{must_be: 0, level: warn}}
  - name: status
    checks:
      - invalid:
          valid_values: {json.dumps(STATUSES)}
          threshold: {{must_be: 0, level: warn}}
  - name: amount
    checks:
      - invalid:
          valid_min: 0
          threshold: {{must_be: 0, level: warn}}
  - name: created_at
checks:
  - row_count:
      threshold:
        must_be_greater_than: 0
  - failed_rows:
      qualifier: big_refunds
      query: select * from ${{var.RELATION}} where status = 'cancelled' and amount > 990
      threshold: {{must_be: 0, level: warn}}
elt:
  volume_change: 0.2
"""
# The same measurements, written by hand as one query over the candidate (and the published count).
RAW_SQL = f"""select count(*) as row_count,
       count(*) filter (where order_id is null) as missing_order_id,
       count(order_id) - count(distinct order_id) as duplicate_order_id,
       count(*) filter (where customer_id is null) as missing_customer_id,
       count(*) filter (where status not in ({SQL_STATUSES})) as invalid_status,
       count(*) filter (where amount < 0) as invalid_amount,
       count(*) filter (where status = 'cancelled' and amount > 990) as big_refunds,
       (select count(*) from {PUBLISHED}) as published_rows
from {CANDIDATE}"""


def make_warehouse(path: Path, rows: int) -> None:
    import duckdb

    con = duckdb.connect(str(path))
    con.execute("create schema _elt")
    orders = (f"select range as order_id, case when range % 100 = 7 then null else range % 50000 end as customer_id, "
              f"case when range % 200 = 3 then 'lost' else [{SQL_STATUSES}][1 + range % 5] end as status, "
              "case when range % 1000 = 11 then -5.0 else (range % 100000) / 100.0 end::decimal(18, 2) as amount, "
              "timestamp '2026-01-01' + to_seconds(range) as created_at from range({n})")
    con.execute(f"create table {CANDIDATE} as {orders.format(n=rows)}")
    con.execute(f"create table {PUBLISHED} as {orders.format(n=int(rows * 0.95))}")
    con.close()


def toolkit_gate(warehouse: str, contract: str) -> dict[str, Any]:
    """What the flow does between a model's build and its publication, on one model."""
    from datetime import datetime, timezone

    from checks import history
    from checks.contracts import load_contract
    from checks.failures import explain
    from checks.gate import decide
    from checks.verify import preload, verify
    from checks.volume import volume_change
    from elt import warehouse as wh_module
    from elt.config import Target

    preload()  # Soda's import: in the whole process, not in the stage (a run imports it before its builds end)
    model = "orders"  # contracts are loaded with the plan, before any build
    loaded = load_contract(Path(contract), {model: ["order_id", "customer_id", "status", "amount", "created_at"]})
    wh = wh_module.connect(Target(name="bench", type="duckdb", path=Path(warehouse)))
    started = time.perf_counter()
    outcomes = verify(wh, loaded, CANDIDATE)
    outcomes.append(volume_change(wh, model, CANDIDATE, PUBLISHED, loaded.volume_change))
    gate = decide(outcomes)
    verified = time.perf_counter() - started
    details = [explain(wh, loaded, o, CANDIDATE) for o in [*gate.failures, *gate.warnings]]
    at = datetime.now(timezone.utc)
    with wh.transaction():
        history.record(wh, "bench", at, gate.outcomes, {model: CANDIDATE}, published=gate.passed)
        history.record_samples(wh, "bench", at, details)
    stage = time.perf_counter() - started
    wh.close()
    return {"stage": stage, "verified": verified, "checks": len(gate.outcomes), "warned": len(gate.warnings),
            "passed": gate.passed, "samples": sum(len(d.rows) for d in details)}


def raw_gate(warehouse: str) -> dict[str, Any]:
    import duckdb

    con = duckdb.connect(warehouse)
    started = time.perf_counter()
    measured = con.execute(RAW_SQL).fetchone()
    con.execute("create table if not exists _elt.raw_results (checked_at timestamptz, measured varchar)")
    con.execute("insert into _elt.raw_results values (now(), ?)", [json.dumps(measured, default=str)])
    stage = time.perf_counter() - started
    con.close()
    return {"stage": stage, "measured": list(measured)}


def timed(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """One worker as a whole process: its wall time from spawn to exit, and what it reported."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, SCRIPT, "--worker", kind, "--params", json.dumps(params)],
                          capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"worker {kind} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1]) | {"seconds": seconds}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the gate-stage ratio exceeds {STAGE_TARGET}")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--params", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker_main({"toolkit": toolkit_gate, "raw": raw_gate}, args.worker, args.params)

    with tempfile.TemporaryDirectory(prefix="elt-bench-gate-") as tmp:
        warehouse, contract = Path(tmp) / "wh.duckdb", Path(tmp) / "orders.yml"
        make_warehouse(warehouse, args.rows)
        contract.write_text(CONTRACT, encoding="utf-8")
        print(f"gate of one {args.rows:,}-row model: toolkit (Soda, volume change, history, samples) / one "
              f"hand-written aggregate query; {args.pairs} pair(s), in turn")
        stage, whole, verify_only = [], [], []
        for number in range(1, args.pairs + 1):
            ours = timed("toolkit", {"warehouse": str(warehouse), "contract": str(contract)})
            raw = timed("raw", {"warehouse": str(warehouse)})
            stage.append(ours["stage"] / raw["stage"])
            verify_only.append(ours["verified"] / raw["stage"])
            whole.append(ours["seconds"] / raw["seconds"])
            print(f"  pair {number}: toolkit {ours['seconds']:.2f} s (gate {ours['stage']:.3f} s: {ours['checks']} "
                  f"checks, {ours['warned']} warned, {ours['samples']} sample rows kept), raw {raw['seconds']:.2f} s "
                  f"(query {raw['stage']:.3f} s); of the gate, Soda and the volume change {ours['verified']:.3f} s")
    met = statistics.median(stage) <= STAGE_TARGET
    print(f"ratio gate stage, toolkit / raw:   {spread(stage)}   target <= {STAGE_TARGET}: {verdict(met)}")
    print(f"ratio without history and samples: {spread(verify_only)}   (Soda's verification and the volume change)")
    print(f"ratio whole process, toolkit / raw: {spread(whole)}   (no target: Soda's import is in it)")
    return 1 if args.check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
