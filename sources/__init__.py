"""dlt sources and the load runner. Only this package imports dlt."""
import os

# Set before dlt is imported: otherwise dlt looks up telemetry hosts on every run (offline machines stall).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
# Arrow tables get dlt's load id column too: build versions of raw tables are keyed on max(_dlt_load_id).
os.environ.setdefault("NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID", "true")
# Resources run one after another: the dead-letter resource, declared last, then sees every rejected row.
os.environ["EXTRACT__NEXT_ITEM_MODE"] = "fifo"
# dlt keeps every loaded file in its working folder unless told otherwise: disk would grow with every run.
os.environ.setdefault("LOAD__DELETE_COMPLETED_JOBS", "true")
# dlt would hold SIGTERM/Ctrl-C until its normalize or load step has drained, then report a failed step (which
# a flow retries). A stop must stop within seconds: the next run completes the package (sources/recovery.py).
os.environ.setdefault("RUNTIME__INTERCEPT_SIGNALS", "false")
