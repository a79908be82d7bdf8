"""The docs site as a person opens it: from file://, in headless Chromium, with every request that leaves the
site's own files counted by a loopback proxy that answers nothing — the count must be 0."""
from __future__ import annotations

import re
import socket
import threading
from contextlib import contextmanager
from typing import Iterator

from tests import browser
from tests.bad_input import elt

# Chromium's own background traffic, as far as switches turn it off; what they do not (the component updater,
# the account service: Debian's chromium 14x) goes to these hosts of Chromium's own, which no page of the site
# names. Every other host counts: a CDN (fonts.googleapis.com, ajax.googleapis.com, ...) would.
BROWSER_OWN = {"update.googleapis.com", "accounts.google.com", "clients2.google.com"}
QUIET = ("--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-domain-reliability", "--no-pings", "--disable-breakpad",
         "--disable-client-side-phishing-detection", "--disable-features=NetworkTimeServiceQuerying,"
         "OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,SafeBrowsing,SigninInterception",
         "--safebrowsing-disable-auto-update", "--metrics-recording-only", "--no-default-browser-check",
         "--disable-extensions")


@contextmanager
def request_counter() -> Iterator[list[str]]:
    """A proxy on loopback that records the first line of every request sent to it and closes the connection."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    seen: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(2)
                try:
                    seen.append(conn.recv(4096).decode("latin-1").split("\r\n")[0] or "(connection)")
                except OSError:
                    seen.append("(connection)")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield seen, ("--proxy-server=http://127.0.0.1:%d" % server.getsockname()[1],
                     "--proxy-bypass-list=<-loopback>", *QUIET)
    finally:
        stop.set()
        thread.join()
        server.close()


def page_requests(seen: list[str]) -> list[str]:
    """The requests not of Chromium's own services: `GET http://host/path`, `CONNECT host:443`."""
    hosts = [re.sub(r"^[A-Z]+ (https?://)?([^/:\s]+).*$", r"\2", line) for line in seen]
    return [line for line, host in zip(seen, hosts, strict=True) if host not in BROWSER_OWN]


def test_the_counter_sees_a_page_that_reaches_out(tmp_path):
    browser.require()
    scratch = tmp_path / "scratch.html"
    scratch.write_text('<html><body><img src="http://example.com/x.png"><p>scratch</p></body></html>')
    with request_counter() as (seen, flags):
        dom = browser.rendered(scratch.as_uri(), wait_ms=3000, flags=flags)
    assert "scratch" in dom
    assert [line for line in page_requests(seen) if "example.com/x.png" in line], seen


def test_the_site_from_file_follows_a_dag_link_to_columns_and_lineage_with_no_request(project_dir):
    browser.require()
    result = elt(project_dir, "docs")
    assert result.returncode == 0, result.stderr
    index = project_dir / ".elt" / "docs" / "index.html"
    with request_counter() as (seen, flags):
        overview = browser.rendered(index.as_uri(), flags=flags)
        links = re.findall(r'<a href="([^"]+)"><rect class="node', overview)  # the DAG's nodes
        assert "models/customers.html" in links and "sources/shop.html#t-orders" in links
        page = browser.rendered((index.parent / "models/customers.html").as_uri(), flags=flags)
        searched = browser.rendered(index.as_uri() + "?q=lifetime", flags=flags)
    assert page_requests(seen) == [], f"requests beyond the site's own files: {seen}"
    row = page[page.index('<tr id="col-lifetime_value">'):].split("</tr>")[0]
    assert ">lifetime_value<" in row and ">orders.amount<" in row and ">raw_shop.orders.amount<" in row
    assert ">raw_shop.orders.status<" in row and "Columns and lineage" in page
    # the search ran in the page: its results list the column, linked to its row
    assert '<a href="models/customers.html#col-lifetime_value">customers.lifetime_value</a>' in searched
