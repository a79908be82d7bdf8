"""The site's stylesheet and search script, written beside the pages: nothing is fetched from anywhere."""
from __future__ import annotations

STYLE = """
:root { --ink: #1d2330; --muted: #5d6778; --line: #dde2ea; --bg: #f6f7f9; --accent: #2357c6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       background: #fff; }
a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
header { display: flex; gap: 24px; align-items: center; padding: 10px 28px; background: #1d2330; color: #fff; }
header a.home { color: #fff; font-weight: 600; font-size: 17px; }
header form { margin-left: auto; }
header input { width: 280px; padding: 5px 10px; border-radius: 5px; border: 0; font: inherit; }
main { padding: 18px 28px 48px; max-width: 1320px; }
h1 { font-size: 26px; margin: 6px 0 4px; } h2 { font-size: 19px; margin: 28px 0 8px; padding-bottom: 4px;
     border-bottom: 1px solid var(--line); } h3 { font-size: 16px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 0 0 10px; } .meta b { color: var(--ink); font-weight: 600; }
.description { font-size: 16px; margin: 8px 0 12px; }
.note { background: #fff7e0; border: 1px solid #f0d890; padding: 8px 12px; border-radius: 6px; margin: 12px 0; }
.tag { display: inline-block; background: #eef2fb; color: #2a3f77; border-radius: 10px; padding: 0 9px;
       margin-right: 4px; font-size: 13px; }
table { border-collapse: collapse; margin: 6px 0 14px; font-size: 14px; }
th, td { text-align: left; padding: 5px 12px 5px 0; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 13px; }
td code, li code { font-size: 13px; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
      overflow: auto; font-size: 13px; line-height: 1.45; max-height: 520px; }
details { margin: 6px 0; } summary { cursor: pointer; color: var(--accent); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; margin: 12px 0; }
.fact { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
.fact span { display: block; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.fact b { font-weight: 600; overflow-wrap: anywhere; }
.PASSED, .WARN, .FAILED, .NOT_EVALUATED, .ERROR { border-radius: 4px; padding: 0 6px; font-size: 12px;
       font-weight: 600; }
.PASSED { background: #dff3e4; color: #17642f; } .WARN { background: #fff0c9; color: #7a5400; }
.FAILED, .ERROR, .NOT_EVALUATED { background: #fbe0e0; color: #9b1c1c; }
.graph { overflow: auto; border: 1px solid var(--line); border-radius: 6px; background: var(--bg);
         max-height: 640px; }
.dag text { font-size: 12px; fill: #1d2330; pointer-events: none; }
.dag .edge { fill: none; stroke: #9aa6b8; stroke-width: 1.2; }
.dag .node { fill: #fff; stroke: #8895aa; stroke-width: 1.2; }
.dag a:hover .node { stroke: var(--accent); stroke-width: 2; }
.dag .node.source, .dag .node.raw { fill: #eceff4; } .dag .node.view { fill: #e8f0fe; }
.dag .node.table, .dag .node.incremental { fill: #e3f4e8; } .dag .node.layer { fill: #fff; }
.dag .node.more { fill: none; stroke-dasharray: 4 3; }
.dag .node.current { stroke: #c2410c; stroke-width: 2.5; }
.legend span { margin-right: 14px; font-size: 13px; color: var(--muted); }
.legend i { display: inline-block; width: 12px; height: 12px; border: 1px solid #8895aa; border-radius: 3px;
            vertical-align: -1px; margin-right: 4px; }
#search { width: 360px; padding: 6px 10px; font: inherit; }
#results li { margin: 2px 0; } #results .kind { color: var(--muted); font-size: 12px; margin-left: 6px; }
.col-lineage { font-size: 13px; } .col-lineage div { white-space: nowrap; }
.muted, .type { color: var(--muted); } .type { font-size: 12px; } .nowrap { white-space: nowrap; }
:target { background: #fff7d6; }
"""

SEARCH = """
(function () {
  var box = document.getElementById('search'), list = document.getElementById('results');
  if (!box || !list || !window.ELT_SEARCH) return;
  function show(query) {
    var q = query.trim().toLowerCase(), found = [];
    list.innerHTML = '';
    if (!q) return;
    for (var i = 0; i < ELT_SEARCH.length && found.length < 400; i++) {
      var at = ELT_SEARCH[i][1].toLowerCase().indexOf(q);
      if (at >= 0) found.push([at === 0 ? 0 : 1, ELT_SEARCH[i][1].length, ELT_SEARCH[i]]);
    }
    found.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    found.slice(0, 60).forEach(function (hit) {
      var li = document.createElement('li'), a = document.createElement('a'), kind = document.createElement('span');
      a.href = hit[2][2]; a.textContent = hit[2][1];
      kind.className = 'kind'; kind.textContent = hit[2][0] + (hit[2][3] ? ' · ' + hit[2][3] : '');
      li.appendChild(a); li.appendChild(kind); list.appendChild(li);
    });
    if (!found.length) list.innerHTML = '<li class="muted">no model or column matches</li>';
  }
  box.addEventListener('input', function () { show(box.value); });
  var given = new URLSearchParams(location.search).get('q');
  if (given) { box.value = given; show(given); }
})();
"""
