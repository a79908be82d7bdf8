"""`elt init DIR`: a project of the user's own that lints, runs and deploys as it is.

One source (a CSV seed folder, replaced on every load as dbt seeds are), one staging view, one mart with
its contract, a prefect.yaml whose deployment runs the installed toolkit's flow in the project folder.
"""
from __future__ import annotations

import re
from pathlib import Path

from elt.errors import EltError

FILES = {
    "elt.toml": '''# {name}: the project file (README.md says what each part is). Secrets never go here.
[project]
name = "{name}"
dialect = "duckdb"             # the dialect models are written in
default_target = "dev"
published_schema = "analytics" # consumers read analytics.<model>
keep_publications = 10         # versions `elt rollback` can go back to

[targets.dev]
type = "duckdb"
path = "warehouse/{name}.duckdb"

# [targets.pg]
# type = "postgres"
# dsn_env = "ELT_PG_DSN"       # export ELT_PG_DSN=postgresql://user:password@host:5432/database

# CSV files under seeds/, loaded into raw_seeds.<resource> when they change. `merge` by primary_key: an
# edited row replaces its old version. `replace` reloads the file on every run, as dbt seeds do (rows
# deleted from the file go too; every run then publishes anew).
[sources.seeds]
kind = "filesystem"
bucket_url = "seeds"

[sources.seeds.resources.customers]
glob = "customers.csv"
write_disposition = "merge"
primary_key = "customer_id"
columns = {{ customer_id = "bigint", name = "text", country = "text", signed_up_at = "timestamp" }}
''',
    "seeds/customers.csv": '''customer_id,name,country,signed_up_at
1,Ada Lovelace,GB,2026-01-03T09:15:00Z
2,Grace Hopper,US,2026-01-04T14:02:00Z
3,Hedy Lamarr,AT,2026-01-07T18:40:00Z
4,Alan Turing,GB,2026-02-11T08:05:00Z
5,Katherine Johnson,US,2026-02-20T11:30:00Z
''',
    "transforms/models/staging/stg_customers.sql": '''-- materialized: view
-- published: false
-- description: Customers as loaded, with tidy names.
select customer_id, trim(name) as name, upper(country) as country, signed_up_at
from raw_seeds.customers
''',
    "transforms/models/marts/customers_by_country.sql": '''-- materialized: table
-- description: Customers per country, and when the first signed up.
-- tags: mart
select country, count(*) as customers, min(signed_up_at) as first_signed_up_at
from stg_customers
group by country
''',
    "checks/contracts/customers_by_country.yml": '''# Soda v4 data contract, checked before every publication.
columns:
  - name: country
    checks:
      - missing:
      - duplicate:
  - name: customers
    checks:
      - invalid:
          valid_min: 1
  - name: first_signed_up_at
checks:
  - schema:
  - row_count:
      threshold:
        must_be_greater_than: 0
''',
    "prefect.yaml": '''# Deploy (with a Prefect API; README.md):
#   prefect work-pool create elt-process --type process
#   prefect --no-prompt deploy --all
#   prefect worker start --pool elt-process
name: {name}
prefect-version: 3.8.8

pull:
  - prefect.deployments.steps.set_working_directory:
      directory: "{{{{ $PWD }}}}"

deployments:
  - name: hourly
    description: Extract what is new, rebuild what changed, verify, publish.
    entrypoint: flows.elt_flow.elt_pipeline   # the toolkit's flow, as installed
    tags: [elt, {name}]
    parameters:
      target: dev
    schedules:
      - cron: "5 * * * *"
    concurrency_limit: 1
    work_pool:
      name: elt-process
      job_variables:
        env:
          RUNTIME__DLTHUB_TELEMETRY: "false"
          SODA_CORE_TELEMETRY_ENABLED: "false"
          DO_NOT_TRACK: "1"
          PREFECT_LOGGING_EXTRA_LOGGERS: "dlt,elt"
''',
    ".gitignore": '''warehouse/
.elt/
__pycache__/
''',
    "README.md": '''# {name}

An ELT project: sources in `elt.toml`, SQL models in `transforms/models/`, Soda contracts in
`checks/contracts/`. Every run extracts what is new, builds what changed, verifies it and publishes
`analytics.*` only if every check passes.

```bash
elt lint                          # models and contracts, without running anything
elt run                           # extract, build, verify, publish
elt show customers_by_country     # rows of a model as it would publish
elt history                       # publications; `elt rollback` points back at the previous one
```

Add a CSV to `seeds/` and a resource for it in `elt.toml`, a model that reads `raw_seeds.<table>`, and a
contract named after the model.
''',
}


def create(directory: Path) -> list[Path]:
    """Write the project into `directory` (new or empty); returns the files written."""
    if directory.exists() and any(directory.iterdir()):
        raise EltError(f"{directory} is not empty", hint="choose a new folder name, or empty this one")
    name = re.sub(r"\W+", "_", directory.resolve().name.lower()).strip("_") or "elt_project"
    if name[0].isdigit():
        name = f"p_{name}"
    written = []
    for relative, text in FILES.items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.format(name=name))
        written.append(path)
    return written
