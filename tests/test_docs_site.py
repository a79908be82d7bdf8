"""The docs site: the demo before any data and after a published run (written by the flow, linked as an
artifact), a generated 1,000-model project, and a folder that is not a site is never replaced."""
from __future__ import annotations

import logging
import re
import sys
from pathlib import Path

from docs_site.site import write_site
from elt.config import load_project
from tests.bad_input import assert_clear_error, elt
from tests.conftest import REPO

# what would make a browser fetch something: a URL in src/href/url()/@import, or a fetch from script
EXTERNAL = re.compile(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import|fetch\(""", re.I)


def site_files(out: Path) -> dict[str, str]:
    return {str(p.relative_to(out)): p.read_text() for p in out.rglob("*") if p.is_file()}


def test_the_demo_site_before_any_data(project_dir):
    result = elt(project_dir, "docs")
    assert result.returncode == 0, result.stderr
    assert "wrote 8 pages to .elt/docs/" in result.stdout and "python -m http.server -d .elt/docs" in result.stdout
    assert "no data yet on target dev" in result.stderr
    files = site_files(project_dir / ".elt" / "docs")
    assert {"index.html", "models/orders.html", "sources/shop.html", "assets/search-index.js"} <= set(files)
    assert not [name for name, text in files.items() if EXTERNAL.search(text)]
    index = files["index.html"]
    assert "no data yet on target dev: run `elt run`" in index
    for model in ("stg_orders", "orders", "customers", "daily_revenue"):  # the overview draws every model
        assert f'<a href="models/{model}.html"><rect class="node' in index
    page = files["models/customers.html"]
    assert "One row per customer with order counts and lifetime value." in page
    assert '<tr id="col-lifetime_value">' in page
    lifetime = page[page.index('<tr id="col-lifetime_value">'):].split("</tr>")[0]
    assert '<a href="../models/orders.html#col-amount"><code>orders.amount</code></a>' in lifetime
    assert '<a href="../sources/shop.html#t-orders"><code>raw_shop.orders.amount</code></a>' in lifetime
    assert "not run yet" in page and "missing on customer_id" in page  # the contract's checks, declared
    for label in ("pg (postgres)", "snowflake (snowflake)", "bigquery (bigquery)"):
        assert f"<summary>{label}</summary>" in page
    assert "On dev (duckdb) it runs as written." in page
    source = files["sources/shop.html"]
    assert '<tr id="t-orders">' in source and '<a href="../models/stg_orders.html">stg_orders</a>' in source
    assert '["column","customers.lifetime_value","models/customers.html#col-lifetime_value",""]' in \
        files["assets/search-index.js"]


class Kept(logging.Handler):
    """The records of one logger, read from the logger itself: Prefect's logging config keeps `elt` records off
    the root logger (caplog), and capfd would leave Prefect's console handler writing to its closed stream."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_the_flow_writes_the_site_after_a_publication_and_links_it(project_dir, prefect_server):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.elt_flow import elt_pipeline

    summary = elt_pipeline(project_dir=str(project_dir), docs_dir="site")
    assert summary.publication is not None
    files = site_files(project_dir / "site")
    page = files["models/customers.html"]
    assert "<span>rows</span><b>216</b>" in page  # counted in the version the publication points at
    assert f"<span>publication</span><b>{summary.publication.id} at " in page
    assert '<td><span class="PASSED">PASSED</span></td>' in page and "no data yet" not in files["index.html"]
    assert "<td>lifetime_value" not in page and "<td>DOUBLE</td>" in page  # types from the warehouse
    assert "<td>1,296</td>" in files["sources/shop.html"]  # raw_shop.orders' rows
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[summary.run_id])))
    links = [a for a in artifacts if a.key and a.key.endswith("-docs")]
    assert len(links) == 1 and (project_dir / "site").as_uri() in str(links[0].data)

    not_a_site = project_dir / "notes"  # the next site cannot be written there: the run publishes all the same
    not_a_site.mkdir()
    (not_a_site / "todo.txt").write_text("mine")
    kept = Kept()
    logging.getLogger("elt.flow").addHandler(kept)
    try:
        again = elt_pipeline(project_dir=str(project_dir), docs_dir="notes")
    finally:
        logging.getLogger("elt.flow").removeHandler(kept)
    assert again.gate is not None and again.gate.passed
    assert (not_a_site / "todo.txt").read_text() == "mine"
    assert any(m.startswith("the docs site was not written to notes: ") for m in kept.messages), kept.messages


def test_a_folder_that_is_not_a_site_is_never_replaced(project_dir):
    assert_clear_error(elt(project_dir, "docs", "--out", "."), "is not a docs site written by `elt docs`",
                       "choose an empty or new folder for --out")
    assert (project_dir / "elt.toml").exists()
    assert elt(project_dir, "docs", "--out", "site").returncode == 0
    assert elt(project_dir, "docs", "--out", "site").returncode == 0  # our own site: replaced


def test_the_site_of_a_generated_1000_model_project(tmp_path):
    sys.path.insert(0, str(REPO / "bench"))
    import duckdb
    from _projects import duckdb_target, generated_project, raw_shop_sql, write_config

    project_dir = write_config(tmp_path / "p", duckdb_target())
    figures = generated_project(project_dir, 1000, 7)
    with duckdb.connect(str(project_dir / "wh.duckdb")) as con:  # raw tables as the benches make them
        for statement in raw_shop_sql(100, "duckdb"):
            con.execute(statement)
    project = load_project(project_dir)
    written = write_site(project, project.target())
    assert written.pages == figures["models"] + 1  # every model and the overview (no sources declared)
    index = (written.out / "index.html").read_text()
    assert index.count("<rect") < 10 and "1000 models: the overview draws folders" in index
    sizes = {p: p.stat().st_size for p in written.out.rglob("*.html")}
    assert max(sizes.values()) == written.largest[1] < 250_000
    for page in (written.out / "models").glob("*.html"):  # a neighbourhood, never the whole graph
        assert page.read_text().count("<rect") <= 2 * 24 + 3
