"""A DAG drawn as plain SVG: nodes in columns by dependency depth, each node a link.

No layout engine: a column per depth (longest path from a source), rows ordered by the mean row of the
parents (one pass, which untangles the usual staging -> marts fan-in), edges as curves from right to left.
Drawing is linear in nodes + edges, so the caller decides how much of a graph to draw.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

NODE_W, NODE_H, COL_GAP, ROW_GAP, PAD = 190, 26, 70, 10, 12
LABEL_CHARS = 24


@dataclass(frozen=True)
class Node:
    key: str
    label: str
    href: str
    kind: str  # a CSS class: source, raw, view, table, incremental, layer, more
    title: str = ""  # the tooltip: the full name and what it is


def depths(nodes: list[str], parents: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a node without parents; parents outside `nodes` do not count."""
    inside = set(nodes)
    found: dict[str, int] = {}

    def depth(key: str) -> int:
        if key not in found:
            found[key] = 0  # a cycle (lint refuses those) must not recurse forever
            found[key] = max((depth(p) + 1 for p in parents.get(key, ()) if p in inside), default=0)
        return found[key]

    for key in nodes:
        depth(key)
    return found


def svg(nodes: list[Node], edges: list[tuple[str, str]], depth: dict[str, int], current: str = "",
        label: str = "dependency graph") -> str:
    """The graph as an inline SVG element; `current` is drawn highlighted (a model's own page)."""
    parents: dict[str, list[str]] = {}
    for a, b in edges:
        parents.setdefault(b, []).append(a)
    columns: dict[int, list[Node]] = {}
    for node in sorted(nodes, key=lambda n: n.key):
        columns.setdefault(depth[node.key], []).append(node)
    row: dict[str, float] = {}
    for level in sorted(columns):
        placed = columns[level]
        if level:  # barycentre of the parents' rows; nodes without drawn parents keep their name order
            placed.sort(key=lambda n: (sum(row[p] for p in parents.get(n.key, ()) if p in row)
                                       / max(1, sum(p in row for p in parents.get(n.key, ()))), n.key))
        for index, node in enumerate(placed):
            row[node.key] = index
    tallest = max((len(c) for c in columns.values()), default=1)
    width = PAD * 2 + len(columns) * NODE_W + max(0, len(columns) - 1) * COL_GAP
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * ROW_GAP
    where: dict[str, tuple[float, float]] = {}
    for slot, level in enumerate(sorted(columns)):
        offset = (tallest - len(columns[level])) * (NODE_H + ROW_GAP) / 2  # centre short columns
        for node in columns[level]:
            where[node.key] = (PAD + slot * (NODE_W + COL_GAP), PAD + offset + row[node.key] * (NODE_H + ROW_GAP))
    parts = [f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">']
    for a, b in edges:
        if a in where and b in where:
            (x1, y1), (x2, y2) = where[a], where[b]
            x1, y1, y2 = x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2
            bend = (x2 - x1) / 2
            parts.append(f'<path class="edge" d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1:.0f} {x2 - bend:.0f},'
                         f'{y2:.0f} {x2:.0f},{y2:.0f}"/>')
    for node in nodes:
        x, y = where[node.key]
        text = node.label if len(node.label) <= LABEL_CHARS else node.label[:LABEL_CHARS - 1] + "…"
        kind = node.kind + (" current" if node.key == current else "")
        body = (f'<rect class="node {kind}" x="{x:.0f}" y="{y:.0f}" width="{NODE_W}" height="{NODE_H}" rx="5"/>'
                f'<text x="{x + 9:.0f}" y="{y + NODE_H / 2 + 4:.0f}">{escape(text)}</text>'
                f'<title>{escape(node.title or node.label)}</title>')
        parts.append(f'<a href="{escape(node.href)}">{body}</a>' if node.href else f"<g>{body}</g>")
    parts.append("</svg>")
    return "".join(parts)
