"""Soda v4 contracts: loading and validation, verification against candidates, the gate. Only this
package imports soda."""
import os

# Before soda_core is imported: otherwise Soda installs a global tracer and spends seconds exporting at exit.
os.environ.setdefault("SODA_CORE_TELEMETRY_ENABLED", "false")
