"""The site's pages as HTML text: the overview, one page per model, one per source, and the search index.

Pure functions of `Site` (what the project and the warehouse say); writing files is site.py's business.
Every link is relative, so the pages read the same from file:// and from any web server.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape

from checks.contracts import Contract
from checks.history import CheckRecord
from docs_site import dag
from docs_site.facts import Facts
from elt.config import Project, Target
from transforms.graph import dependencies
from transforms.lineage import ColumnRef, Lineage
from transforms.models import Model

OVERVIEW_LIMIT = 150  # beyond this many models the overview draws folders, and each model page its neighbours
NEIGHBOURS = 2  # hops up and down drawn on a model's page
SIDE_LIMIT = 24  # nodes drawn on each side of a model before "+N more"


@dataclass
class Site:
    project: Project
    target: Target
    models: dict[str, Model]
    order: list[str]
    lineage: Lineage
    facts: Facts
    contracts: dict[str, Contract]
    compiled: dict[str, list[tuple[str, str]]]  # model -> [(targets and dialect, SQL or the compile error)]
    generated_at: datetime

    def __post_init__(self) -> None:
        self.parents = dependencies(self.models)
        self.children: dict[str, list[str]] = {name: [] for name in self.models}
        for name, read in self.parents.items():
            for upstream in read:
                self.children[upstream].append(name)
        self.loaded_by = {s.dataset: name for name, s in self.project.sources.items()}
        self.raw_read = {name: sorted({r.key for r in m.refs if r.schema}) for name, m in self.models.items()}


def page(site: Site, title: str, body: str, root: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width, initial-scale=1"><title>{escape(title)} · {escape(site.project.name)}'
            f'</title><link rel="stylesheet" href="{root}assets/style.css"></head><body><header>'
            f'<a class="home" href="{root}index.html">{escape(site.project.name)}</a>'
            f'<span class="muted">target {escape(site.target.name)} · generated '
            f'{site.generated_at:%Y-%m-%d %H:%M} UTC</span>'
            f'<form action="{root}index.html" method="get"><input name="q" placeholder="search models and columns" '
            f'aria-label="search models and columns"></form></header><main>{body}</main></body></html>')


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S %Z}".strip() if value else "never"


def _note(site: Site) -> str:
    return f'<p class="note">{escape(site.facts.note)}</p>' if site.facts.note else ""


def model_href(name: str, root: str = "") -> str:
    return f"{root}models/{name}.html"


def _source_href(site: Site, relation: str, root: str) -> str:
    dataset, _, table = relation.partition(".")
    source = site.loaded_by.get(dataset)
    return f"{root}sources/{source}.html#t-{table}" if source else ""


def _ref_link(site: Site, ref: ColumnRef, root: str) -> str:
    if ref.relation in site.models:
        href = f"{model_href(ref.relation, root)}#col-{ref.column}"
    else:
        href = _source_href(site, ref.relation, root)
    text = f"<code>{escape(str(ref))}</code>"
    return f'<a href="{escape(href)}">{text}</a>' if href else text


def _node(site: Site, key: str, root: str) -> dag.Node:
    if key in site.models:
        model = site.models[key]
        published = f"published as {site.project.published_schema}.{key}" if model.published else "internal"
        return dag.Node(key, key, model_href(key, root), model.materialized,
                        f"{key}: {model.materialized}, {published}")
    source = site.loaded_by.get(key.split(".")[0], "")
    return dag.Node(key, key, _source_href(site, key, root), "raw", f"{key}: raw table, loaded by source {source}")


def _legend(current: bool = False) -> str:
    this = '<span><i style="border:2px solid #c2410c"></i>this model</span>' if current else ""
    return ('<p class="legend"><span><i style="background:#eceff4"></i>raw table / source</span>'
            '<span><i style="background:#e8f0fe"></i>view</span><span><i style="background:#e3f4e8"></i>'
            f'table or incremental</span>{this}</p>')


def overview_graph(site: Site) -> str:
    """Every model and raw table when the project is small; its folders and sources when it is not."""
    if len(site.models) <= OVERVIEW_LIMIT:
        keys = [*sorted({r for rs in site.raw_read.values() for r in rs}), *site.order]
        edges = [(r, m) for m, rs in site.raw_read.items() for r in rs] + \
                [(p, m) for m, ps in site.parents.items() for p in ps]
        nodes = [_node(site, key, "") for key in keys]
        parents: dict[str, list[str]] = {}
        for a, b in edges:
            parents.setdefault(b, []).append(a)
        return dag.svg(nodes, edges, dag.depths(keys, parents), label="every model and raw table")
    groups = {name: f"folder:{m.layer or '(top)'}" for name, m in site.models.items()}
    counts: dict[str, int] = {}
    for group in groups.values():
        counts[group] = counts.get(group, 0) + 1
    links: dict[tuple[str, str], int] = {}
    for name, read in site.parents.items():
        for upstream in read:
            if groups[upstream] != groups[name]:
                links[(groups[upstream], groups[name])] = links.get((groups[upstream], groups[name]), 0) + 1
    for name, relations in site.raw_read.items():
        for relation in relations:
            source = f"source:{site.loaded_by.get(relation.split('.')[0], relation.split('.')[0])}"
            links[(source, groups[name])] = links.get((source, groups[name]), 0) + 1
    sources = sorted({a for a, _ in links if a.startswith("source:")})
    nodes = [dag.Node(s, f"source {s[7:]}", f"sources/{s[7:]}.html" if s[7:] in site.project.sources else "",
                      "source") for s in sources]
    nodes += [dag.Node(g, f"{g[7:]}/ ({n} models)", f"#folder-{g[7:]}", "layer") for g, n in sorted(counts.items())]
    parents = {}
    for (a, b) in links:
        if a != b:
            parents.setdefault(b, []).append(a)
    keys = [n.key for n in nodes]
    acyclic = [(a, b) for (a, b) in links if a != b]
    return dag.svg(nodes, acyclic, dag.depths(keys, parents), label="folders and sources")


def neighbourhood_graph(site: Site, name: str) -> str:
    """The model, what it reads and what reads it, NEIGHBOURS hops each way, at most SIDE_LIMIT per side."""
    up = _reach(name, lambda k: [*site.parents.get(k, ()), *site.raw_read.get(k, ())])
    down = _reach(name, lambda k: site.children.get(k, ()))
    keys = [name]
    nodes = [_node(site, name, "../")]
    edges: list[tuple[str, str]] = []
    for side, found in (("up", up), ("down", down)):
        shown, hidden = found[:SIDE_LIMIT], len(found) - SIDE_LIMIT
        keys += shown
        nodes += [_node(site, k, "../") for k in shown]
        if hidden > 0:
            more = f"more-{side}"
            keys.append(more)
            nodes.append(dag.Node(more, f"+{hidden} more", "", "more", f"{hidden} more models not drawn"))
            edges.append((more, name) if side == "up" else (name, more))
    drawn = set(keys)
    for key in drawn:
        for upstream in [*site.parents.get(key, ()), *site.raw_read.get(key, ())]:
            if upstream in drawn:
                edges.append((upstream, key))
    parents: dict[str, list[str]] = {}
    for a, b in edges:
        parents.setdefault(b, []).append(a)
    return dag.svg(nodes, edges, dag.depths(keys, parents), current=name, label=f"what {name} reads and feeds")


def _reach(start: str, step) -> list[str]:
    found: list[str] = []
    frontier = [start]
    for _ in range(NEIGHBOURS):
        frontier = sorted({n for key in frontier for n in step(key)} - set(found) - {start})
        found += frontier
    return found


def index_page(site: Site) -> str:
    pub = site.facts.publication
    published = sum(m.published for m in site.models.values())
    facts = [("models", f"{len(site.models)} ({published} published)"), ("sources", str(len(site.project.sources))),
             ("publication", f"{pub.id} at {_when(pub.published_at)}" if pub else "none yet"),
             ("published schema", site.project.published_schema)]
    boxes = "".join(f'<div class="fact"><span>{escape(k)}</span><b>{escape(v)}</b></div>' for k, v in facts)
    scale = "" if len(site.models) <= OVERVIEW_LIMIT else (
        f'<p class="meta">{len(site.models)} models: the overview draws folders and sources; each model\'s page '
        "draws what it reads and what reads it.</p>")
    sources = "".join(f'<li><a href="sources/{escape(n)}.html">{escape(n)}</a> <span class="muted">'
                      f'({escape(s.kind)} → {escape(s.dataset)})</span></li>'
                      for n, s in sorted(site.project.sources.items())) or "<li>none declared in elt.toml</li>"
    folders: dict[str, list[str]] = {}
    for name in sorted(site.models):
        folders.setdefault(site.models[name].layer or "(top)", []).append(name)
    tables = []
    for folder, names in sorted(folders.items()):
        rows = "".join(
            f'<tr><td><a href="{model_href(n)}">{escape(n)}</a></td><td>{site.models[n].materialized}</td>'
            f'<td>{"published" if site.models[n].published else "internal"}</td>'
            f'<td>{escape(site.models[n].description)}</td></tr>' for n in names)
        tables.append(f'<h3 id="folder-{escape(folder)}">{escape(folder)}/ <span class="muted">({len(names)})</span>'
                      f'</h3><table><tr><th>model</th><th>materialized</th><th>consumers</th><th>description</th></tr>'
                      f"{rows}</table>")
    body = (f"<h1>{escape(site.project.name)}</h1>{_note(site)}<div class=\"facts\">{boxes}</div>"
            '<h2>Search</h2><input id="search" placeholder="a model or column name" autofocus><ul id="results"></ul>'
            f'<h2>Dependency graph</h2>{scale}{_legend()}<div class="graph">{overview_graph(site)}</div>'
            f"<h2>Sources</h2><ul>{sources}</ul><h2>Models</h2>{''.join(tables)}"
            '<script src="assets/search-index.js"></script><script src="assets/search.js"></script>')
    return page(site, "overview", body, "")


def model_page(site: Site, name: str) -> str:
    model = site.models[name]
    facts = site.facts
    relation = facts.in_effect(name)
    schema = site.project.published_schema
    tags = "".join(f'<span class="tag">{escape(t)}</span>' for t in model.tags)
    consumers = f"published as <b>{escape(f'{schema}.{name}')}</b>" if model.published else "internal: not published"
    meta = (f'<p class="meta"><b>{model.materialized}</b> · {consumers}'
            f' · <code>{escape(str(model.path.relative_to(site.project.root)))}</code> {tags}</p>')
    boxes = [("version in effect", relation or "not built yet"),
             ("publication", f"{facts.publication.id} at {_when(facts.publication.published_at)}"
              if facts.publication and relation else "none"),
             ("rows", f"{facts.rows[relation]:,}" if relation in facts.rows else
              ("a view: counted when read" if relation else "-")),
             ("built at", _when(facts.built_at.get(relation)) if relation else "-"),
             ("freshness", _freshness(site, name))]
    facts_html = "".join(f'<div class="fact"><span>{escape(k)}</span><b>{escape(v)}</b></div>' for k, v in boxes)
    description = f'<p class="description">{escape(model.description)}</p>' if model.description else \
        '<p class="description muted">No description: add a <code>-- description:</code> line to the model.</p>'
    body = (f"<h1>{escape(name)}</h1>{meta}{description}{_note(site)}<div class=\"facts\">{facts_html}</div>"
            f"<h2>Neighbourhood</h2>{_legend(True)}<div class=\"graph\">{neighbourhood_graph(site, name)}</div>"
            f"<h2>Columns and lineage</h2>{_columns(site, name, relation)}"
            f"<h2>Checks</h2>{_checks(site, name)}"
            f"<h2>SQL</h2><h3>As written</h3><pre>{escape(model.text.strip())}</pre>{_compiled(site, name)}")
    return page(site, name, body, "../")


def _freshness(site: Site, name: str) -> str:
    records = [r for r in site.facts.checks.get(name, []) if r.check.startswith("freshness")]
    if records:
        last = records[-1]
        if last.value is None:
            return f"checked: {last.outcome}"
        minutes = last.value * 60 if last.unit.startswith("hour") else None
        age = f"{minutes:.0f} min" if minutes is not None and minutes < 90 else f"{last.value:.3g} {last.unit}"
        return f"{age} old when checked ({last.outcome})"
    datasets = _raw_upstream(site, name)
    loads = [site.facts.sources[s].last_load for s in (site.loaded_by.get(d) for d in datasets)
             if s in site.facts.sources and site.facts.sources[s].last_load]
    return f"raw data loaded {_when(max(loads))}" if loads else "no check, no load yet"


def _raw_upstream(site: Site, name: str) -> set[str]:
    """Raw datasets the model reads, itself or through the models upstream of it."""
    seen, stack, found = {name}, [name], set()
    while stack:
        key = stack.pop()
        found |= {r.split(".")[0] for r in site.raw_read[key]}
        for upstream in site.parents[key]:
            if upstream not in seen:
                seen.add(upstream)
                stack.append(upstream)
    return found


def _columns(site: Site, name: str, relation: str | None) -> str:
    lineage = site.lineage
    typed = dict(site.facts.types.get(relation or "", []))
    own = lineage.edges[name]
    rows = []
    for column in site.lineage.relations.get(name) or []:
        ref = ColumnRef(name, column)
        inputs = own.columns.get(column, ())
        origins = [s.ref for s in lineage.upstream(ref) if s.ref.relation not in site.models]
        readers = sorted(lineage.readers.get(ref, ()))
        cell = lambda refs: "".join(f"<div>{_ref_link(site, r, '../')}</div>" for r in refs)  # noqa: E731
        computed = cell(inputs) or '<span class="muted">no column: computed from its rows</span>'
        rows.append(f'<tr id="col-{escape(column)}"><td><code>{escape(column)}</code></td>'
                    f'<td>{escape(typed.get(column, "-"))}</td><td class="col-lineage">{computed}</td>'
                    f'<td class="col-lineage">{cell(origins)}</td>'
                    f'<td class="col-lineage">{cell(readers) or "<span class=muted>-</span>"}</td></tr>')
    shaped = (f'<p class="meta">Its rows are filtered, joined or grouped by '
              f'{", ".join(_ref_link(site, r, "../") for r in own.rows)}.</p>') if own.rows else ""
    types = "" if typed else '<p class="meta">Types come from the warehouse once the model is built.</p>'
    return (f"{shaped}{types}<table><tr><th>column</th><th>type</th><th>computed from</th><th>raw origin</th>"
            f"<th>read by</th></tr>{''.join(rows)}</table>")


def _checks(site: Site, name: str) -> str:
    contract = site.contracts.get(name)
    records = site.facts.checks.get(name, [])
    if contract is None and not records:
        warning = " Nothing verifies what consumers read." if site.models[name].published else ""
        return f'<p class="meta">No contract (<code>checks/contracts/{escape(name)}.yml</code>).{warning}</p>'
    where = f"<code>{escape(str(contract.path.relative_to(site.project.root)))}</code>" if contract else "a contract"
    if not records:
        declared = "".join(f"<li><code>{escape(c)}</code></li>" for c in _declared(contract))
        return f'<p class="meta">{where}: not run yet. Its checks:</p><ul>{declared}</ul>'
    by_key: dict[tuple[str, str, str], list[CheckRecord]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    rows = []
    for (_, check, column), history in sorted(by_key.items()):
        last = history[-1]
        value = "-" if last.value is None else f"{last.value:.4g} {last.unit}".strip()
        trend = " ".join(f'<span class="{r.outcome}" title="{_when(r.checked_at)}">{r.outcome[0]}</span>'
                         for r in history)
        rows.append(f"<tr><td><code>{escape(check)}</code></td><td>{escape(column or '-')}</td>"
                    f'<td><span class="{last.outcome}">{last.outcome}</span></td><td>{escape(value)}</td>'
                    f"<td>{escape(last.threshold or '-')}</td><td>{trend}</td><td>{_when(last.checked_at)}</td></tr>")
    return (f'<p class="meta">{where}; the last {len(set(r.run_id for r in records))} run(s) that checked it, '
            "oldest first (P passed, W warned, F failed).</p><table><tr><th>check</th><th>column</th><th>last</th>"
            f"<th>measured</th><th>threshold</th><th>runs</th><th>checked at</th></tr>{''.join(rows)}</table>")


def _declared(contract: Contract | None) -> list[str]:
    if contract is None:
        return []
    document = contract.document
    found = [f"{next(iter(c))} on {col['name']}" for col in document.get("columns") or []
             for c in col.get("checks") or [] if isinstance(c, dict)]
    found += [next(iter(c)) for c in document.get("checks") or [] if isinstance(c, dict)]
    return found


def _compiled(site: Site, name: str) -> str:
    parts = [f"<details><summary>{escape(label)}</summary><pre>{escape(sql)}</pre></details>"
             for label, sql in site.compiled.get(name, [])]
    same = sorted(t.name for t in site.project.targets.values() if t.dialect == site.project.dialect)
    note = f'<p class="meta">On {", ".join(same)} ({site.project.dialect}) it runs as written.</p>' if same else ""
    return f"<h3>Compiled for each target</h3>{note}{''.join(parts)}" if parts or note else ""


def source_page(site: Site, name: str) -> str:
    source = site.project.sources[name]
    status = site.facts.sources.get(name)
    readers: dict[str, list[str]] = {}
    for model, relations in site.raw_read.items():
        for relation in relations:
            readers.setdefault(relation, []).append(model)
    tables = sorted({r.split(".", 1)[1] for r in site.lineage.relations if r.startswith(f"{source.dataset}.")}
                    | set(status.rows if status else ()) | set(status.cursors if status else ()))
    rows = []
    for table in tables:
        relation = f"{source.dataset}.{table}"
        typed = site.facts.types.get(relation) or [(c, "") for c in site.lineage.relations.get(relation) or []]
        columns = ", ".join(f'<code>{escape(c)}</code>{" <span class=type>" + escape(t) + "</span>" if t else ""}'
                            for c, t in typed)
        read_by = ", ".join(f'<a href="../{model_href(m)}">{escape(m)}</a>' for m in sorted(readers.get(relation, [])))
        rows.append(f'<tr id="t-{escape(table)}"><td><code>{escape(table)}</code></td>'
                    f'<td>{status.rows.get(table, 0) if status else 0:,}</td>'
                    f'<td class="nowrap" title="{escape(status.cursors.get(table, "") if status else "")}">'
                    f'{escape(status.cursors.get(table, "-")[:19] if status else "-")}</td>'
                    f'<td>{columns or "-"}</td><td>{read_by or "-"}</td></tr>')
    dead = site.facts.dead_letters.get(name, [])
    dead_count = status.rows.get("_dead_letters", 0) if status else 0
    dead_html = (f"<p>{dead_count:,} rejected row(s) in <code>{escape(source.dataset)}._dead_letters</code>; "
                 "the newest:</p><table><tr><th>resource</th><th>reason</th><th>rejected at</th></tr>" +
                 "".join(f"<tr><td>{escape(str(r))}</td><td>{escape(str(why))}</td><td>{_when(at)}</td></tr>"
                         for r, why, at in dead) + "</table>") if dead_count else "<p class=\"meta\">none</p>"
    last = _when(status.last_load) if status else "never"
    body = (f'<h1>source {escape(name)}</h1><p class="meta"><b>{escape(source.kind)}</b> · loads into '
            f"<code>{escape(source.dataset)}</code> · last completed load: <b>{escape(last)}</b></p>{_note(site)}"
            "<h2>Resources</h2><table><tr><th>table</th><th>rows</th><th>cursor</th><th>columns</th><th>read by</th>"
            f"</tr>{''.join(rows)}</table><h2>Dead letters</h2>{dead_html}")
    return page(site, f"source {name}", body, "../")


def search_index(site: Site) -> str:
    """Every model and column as [kind, name, link, description], for the search box (a script, since
    a page opened from file:// may not fetch a JSON file)."""
    entries = []
    for name in sorted(site.models):
        entries.append(["model", name, model_href(name), site.models[name].description[:80]])
        for column in site.lineage.relations.get(name) or []:
            entries.append(["column", f"{name}.{column}", f"{model_href(name)}#col-{column}", ""])
    for name, source in sorted(site.project.sources.items()):
        entries.append(["source", name, f"sources/{name}.html", source.dataset])
    return "window.ELT_SEARCH = " + json.dumps(entries, separators=(",", ":")) + ";\n"
