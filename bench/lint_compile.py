"""Benchmark: lint + dependency ordering + compile-to-Postgres of a generated N-model project, cold.

    cd /work/main && .venv/bin/python bench/lint_compile.py [--models 1000] [--seed 7] [--runs 1]

1. Generates (seeded, deterministic) a DuckDB-dialect project of N models under models/staging and
   models/marts in a temp dir: chains and fan-ins over raw_shop.orders/customers/payments, with CTEs,
   joins (some USING), aggregates, window functions, CASE, correlated EXISTS, UNION ALL, qualified and
   unqualified columns. Every model reads 1-3 upstream models or raw tables.
2. Times, each measurement in its own fresh interpreter so every one is cold:
   - phases: discovery+parse+lint (`lint_project`), ordering (`topological_order`), compile of every
     model to postgres (`compile_model`);
   - total: the whole of `make_plan(models_dir, raw, "postgres")`;
   - raw floor: `sqlglot.parse_one` of every file + `.sql(dialect="postgres")`;
   and prints seconds, models/second and our total / raw floor ratio. Lint must find 0 violations on
   the generated project (the script exits 1 otherwise and prints them).
3. Optionally `--profile` runs make_plan under cProfile in a fresh process and prints the hotspots.
4. The dev loop as a user feels it: `elt lint` as a whole process (start-up, imports and exit included) on
   the project with its raw tables in a DuckDB warehouse, cold (`--no-cache`: every file parsed and
   linted) and unchanged (a re-run answered from the last clean lint), paired in turn with a raw process
   that parses every model with sqlglot; min/median/max over `--pairs`. `--check` exits 1 when cold
   exceeds 2 s or unchanged 0.5 s.

Import time is printed separately and is not part of any phase.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 2.0
UNCHANGED_TARGET_SECONDS = 0.5  # `elt lint` re-run with nothing changed, as a whole process
ELT = Path(sys.executable).parent / "elt"
RAW_PARSE = ("import pathlib, sys, sqlglot\n"
             "[sqlglot.parse_one(p.read_text(), read='duckdb')"
             " for p in sorted(pathlib.Path(sys.argv[1]).rglob('*.sql'))]")
COLUMN_TYPES = {"id": "bigint", "num": "decimal(18, 2)", "int": "bigint", "ts": "timestamp", "text": "varchar"}
TARGET = "postgres"

# ---------------------------------------------------------------------------------------------------
# Project generator
# ---------------------------------------------------------------------------------------------------

# column -> kind: id (join keys), num, int, ts, text
RAW_TABLES: dict[str, dict[str, str]] = {
    "raw_shop.orders": {"order_id": "id", "customer_id": "id", "status": "text", "amount": "num",
                        "created_at": "ts", "updated_at": "ts"},
    "raw_shop.customers": {"customer_id": "id", "name": "text", "email": "text", "country": "text",
                           "tier": "text", "created_at": "ts", "updated_at": "ts"},
    "raw_shop.payments": {"payment_id": "id", "order_id": "id", "method": "text", "amount": "num",
                          "paid_at": "ts", "updated_at": "ts"},
}
RAW: dict[str, list[str]] = {name: list(cols) for name, cols in RAW_TABLES.items()}

PREFIXES = ("total_", "avg_", "max_", "min_", "last_", "first_", "prev_", "next_", "running_", "n_",
            "clean_", "lower_", "upper_")
SUFFIXES = ("_day", "_month", "_year", "_band", "_rank", "_share", "_date", "_rounded", "_flag")
TEXT_VALUES = ("'cancelled'", "'returned'", "'pending'", "'gold'", "'card'", "'NL'")
DATES = ("date '2020-01-01'", "date '2021-06-30'", "date '2022-03-15'", "date '2023-01-01'")


def root(name: str) -> str:
    """A column's stem with derived prefixes/suffixes removed, so names do not grow down a chain."""
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if name.startswith(p) and len(name) > len(p):
                name, changed = name[len(p):], True
        for s in SUFFIXES:
            if name.endswith(s) and len(name) > len(s):
                name, changed = name[: -len(s)], True
        while name[-2:-1] == "_" and name[-1].isdigit():
            name, changed = name[:-2], True
    return name


class Source:
    """A relation a model reads: a raw table or an earlier model."""

    def __init__(self, key: str, columns: dict[str, str], depth: int, entity: str):
        self.key = key          # "raw_shop.orders" or a model name
        self.columns = columns  # ordered name -> kind
        self.depth = depth
        self.entity = entity    # orders / customers / payments: only for readable model names

    @property
    def keys(self) -> list[str]:
        return [c for c, k in self.columns.items() if k == "id"]

    def of(self, kind: str) -> list[str]:
        return [c for c, k in self.columns.items() if k == kind]


class Out:
    """The SELECT list being built: unique output names with their kinds."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.columns: dict[str, str] = {}

    def add(self, expr: str, name: str, kind: str, bare: str | None = None) -> str:
        base, n = name, 2
        while name in self.columns:
            name, n = f"{base}_{n}", n + 1
        self.columns[name] = kind
        self.items.append(expr if bare == name else f"{expr} as {name}")
        return name

    def sql(self, indent: str = "    ") -> str:
        return (",\n" + indent).join(self.items)


class Generator:
    def __init__(self, n: int, seed: int):
        self.n = n
        self.rng = random.Random(seed)
        self.raw = [Source(k, dict(v), 0, k.split(".")[-1]) for k, v in RAW_TABLES.items()]
        self.models: list[tuple[str, str, Source]] = []  # (layer, sql text, source describing output)
        self.edges = 0

    # -- helpers -----------------------------------------------------------------------------------
    def pick(self, seq, k: int = 1):
        return self.rng.sample(list(seq), min(k, len(seq)))

    def col(self, alias: str | None, name: str) -> str:
        return f"{alias}.{name}" if alias else name

    def derived(self, out: Out, ref: str, name: str, kind: str) -> None:
        """A transformed projection of one input column (ref is its possibly-qualified spelling)."""
        r, stem = self.rng.random(), root(name)
        if kind == "num":
            if r < 0.3:
                out.add(f"round({ref}::decimal(18, 4), 2)", f"{stem}_rounded", "num")
            elif r < 0.55:
                out.add(f"case when {ref} >= 100 then 'high' when {ref} >= 20 then 'mid' else 'low' end",
                        f"{stem}_band", "text")
            elif r < 0.75:
                out.add(f"coalesce({ref}, 0)", name, "num")
            else:
                out.add(f"cast({ref} as decimal(18, 2))", name, "num")
        elif kind == "ts":
            if r < 0.35:
                out.add(f"date_trunc('month', {ref})", f"{stem}_month", "ts")
            elif r < 0.6:
                out.add(f"cast({ref} as date)", f"{stem}_date", "ts")
            elif r < 0.8:
                out.add(f"extract(year from {ref})", f"{stem}_year", "int")
            else:
                self.plain(out, ref, name, "ts")
        elif kind == "text":
            if r < 0.3:
                out.add(f"lower(trim({ref}))", f"clean_{stem}", "text")
            elif r < 0.55:
                out.add(f"coalesce({ref}, 'unknown')", name, "text")
            elif r < 0.75:
                out.add(f"case when {ref} in ({', '.join(self.pick(TEXT_VALUES, 2))}) then 1 else 0 end",
                        f"{stem}_flag", "int")
            else:
                out.add(f"upper({ref})", f"upper_{stem}", "text")
        else:  # id, int
            self.plain(out, ref, name, kind)

    def plain(self, out: Out, ref: str, name: str, kind: str) -> None:
        out.add(ref, name, kind, bare=ref.split(".")[-1])

    def predicate(self, src: Source, alias: str | None) -> str | None:
        options = []
        for c in src.of("num"):
            options.append(f"{self.col(alias, c)} > 0")
        for c in src.of("ts"):
            options.append(f"{self.col(alias, c)} >= {self.rng.choice(DATES)}")
        for c in src.of("text"):
            options.append(f"{self.col(alias, c)} <> {self.rng.choice(TEXT_VALUES)}")
            options.append(f"{self.col(alias, c)} is not null")
        if not options:
            return None
        return " and ".join(self.pick(options, self.rng.choice((1, 1, 2))))

    def subset(self, src: Source, lo: int, hi: int) -> list[str]:
        """Some non-key columns of a source, in source order."""
        others = [c for c in src.columns if src.columns[c] != "id"]
        chosen = set(self.pick(others, self.rng.randint(lo, hi)))
        return [c for c in others if c in chosen]

    # -- templates (each returns sql body and output columns) ---------------------------------------
    def t_project(self, src: Source) -> tuple[str, dict[str, str]]:
        """Rename/clean projection with an optional filter; unqualified, table-qualified or aliased."""
        style = self.rng.choice(("bare", "bare", "alias", "table"))
        alias = {"bare": None, "alias": "s", "table": src.key.split(".")[-1]}[style]
        frm = src.key + (" as s" if style == "alias" else "")
        out = Out()
        for k in src.keys:
            self.plain(out, self.col(alias, k), k, "id")
        for c in self.subset(src, 2, 5):
            kind = src.columns[c]
            if self.rng.random() < 0.5:
                self.plain(out, self.col(alias, c), c, kind)
            else:
                self.derived(out, self.col(alias, c), c, kind)
        where = self.predicate(src, alias) if self.rng.random() < 0.6 else None
        sql = f"select\n    {out.sql()}\nfrom {frm}" + (f"\nwhere {where}" if where else "")
        return sql, out.columns

    def t_aggregate(self, src: Source) -> tuple[str, dict[str, str]]:
        """GROUP BY a key with aggregates, FILTER and HAVING."""
        key = self.rng.choice(src.keys)
        out = Out()
        out.add(key, key, "id", bare=key)
        out.add("count(*)", f"n_{root(src.key.split('.')[-1])}", "int")
        for c in self.pick(src.of("num"), 2):
            out.add(f"sum({c})", f"total_{root(c)}", "num")
            if self.rng.random() < 0.5:
                out.add(f"round(avg({c})::decimal(18, 4), 2)", f"avg_{root(c)}", "num")
        for c in self.pick(src.of("ts"), 2):
            out.add(f"max({c})", f"last_{root(c)}", "ts")
            if self.rng.random() < 0.4:
                out.add(f"min({c})", f"first_{root(c)}", "ts")
        texts = src.of("text")
        if texts and self.rng.random() < 0.5:
            t = self.rng.choice(texts)
            out.add(f"count(*) filter (where {t} <> {self.rng.choice(TEXT_VALUES)})", f"n_{root(t)}_kept", "int")
        others = [k for k in src.keys if k != key]
        if others and self.rng.random() < 0.6:
            o = self.rng.choice(others)
            out.add(f"count(distinct {o})", f"n_{root(o)}", "int")
        sql = f"select\n    {out.sql()}\nfrom {src.key}"
        where = self.predicate(src, None) if self.rng.random() < 0.3 else None
        if where:
            sql += f"\nwhere {where}"
        sql += f"\ngroup by {key}"
        if self.rng.random() < 0.3:
            sql += "\nhaving count(*) > 1"
        return sql, out.columns

    def t_dedup(self, src: Source, star_ok: bool) -> tuple[str, dict[str, str]]:
        """Latest row per key: ROW_NUMBER in a CTE, filtered outside."""
        key = self.rng.choice(src.keys)
        ts = self.rng.choice(src.of("ts")) if src.of("ts") else key
        inner = Out()
        if star_ok and self.rng.random() < 0.5:
            inner_cols = dict(src.columns)
            inner_list = "*"
        else:
            for c in src.columns:
                inner.add(c, c, src.columns[c], bare=c)
            inner_cols, inner_list = dict(inner.columns), inner.sql("        ")
        rn = "rn" if "rn" not in inner_cols else "row_rank"
        out = Out()
        for c in inner_cols:
            if inner_cols[c] == "id" or self.rng.random() < 0.6:
                out.add(f"ranked.{c}", c, inner_cols[c], bare=c)
        sql = (f"with ranked as (\n    select\n        {inner_list},\n"
               f"        row_number() over (partition by {key} order by {ts} desc) as {rn}\n"
               f"    from {src.key}\n)\nselect\n    {out.sql()}\nfrom ranked\nwhere ranked.{rn} = 1")
        return sql, out.columns

    def t_window(self, src: Source) -> tuple[str, dict[str, str]]:
        """Running totals, LAG and RANK per key."""
        key = self.rng.choice(src.keys)
        order = self.rng.choice(src.of("ts")) if src.of("ts") else key
        out = Out()
        for k in src.keys:
            out.add(k, k, "id", bare=k)
        if order != key:
            out.add(order, order, "ts", bare=order)
        window = f"partition by {key} order by {order}"
        for c in self.pick(src.of("num"), 2):
            out.add(c, c, "num", bare=c)
            r = self.rng.random()
            if r < 0.4:
                out.add(f"sum({c}) over ({window} rows between unbounded preceding and current row)",
                        f"running_{root(c)}", "num")
            elif r < 0.7:
                out.add(f"lag({c}) over ({window})", f"prev_{root(c)}", "num")
            else:
                out.add(f"{c} / nullif(sum({c}) over (partition by {key}), 0)", f"{root(c)}_share", "num")
        out.add(f"rank() over ({window} desc)", f"{root(order)}_rank", "int")
        for c in self.subset(src, 0, 2):
            if c not in out.columns:
                self.derived(out, c, c, src.columns[c])
        return f"select\n    {out.sql()}\nfrom {src.key}", out.columns

    def t_cte_chain(self, src: Source) -> tuple[str, dict[str, str]]:
        """Filter in one CTE, enrich in a second, select from the second."""
        base = Out()
        for k in src.keys:
            base.add(k, k, "id", bare=k)
        for c in self.subset(src, 2, 5):
            base.add(c, c, src.columns[c], bare=c)
        where = self.predicate(src, None) or "1 = 1"
        enriched = Out()
        for c, kind in base.columns.items():
            if kind == "id" or self.rng.random() < 0.5:
                enriched.add(f"base.{c}", c, kind, bare=c)
            else:
                self.derived(enriched, c, c, kind)
        if len(enriched.columns) == len(base.columns):
            enriched.add("1", "is_current", "int")
        final = Out()
        for c, kind in enriched.columns.items():
            final.add(f"e.{c}", c, kind, bare=c)
        sql = (f"with base as (\n    select\n        {base.sql('        ')}\n"
               f"    from {src.key}\n    where {where}\n),\n"
               f"enriched as (\n    select\n        {enriched.sql('        ')}\n    from base\n)\n"
               f"select\n    {final.sql()}\nfrom enriched as e")
        return sql, final.columns

    def join_projection(self, out: Out, sources: list[tuple[str, Source]], key: str, using: bool) -> None:
        """Project the key plus some columns of each joined source; bare only where unambiguous."""
        counts: dict[str, int] = {}
        for _, s in sources:
            for c in s.columns:
                counts[c] = counts.get(c, 0) + 1
        out.add(key if using else f"{sources[0][0]}.{key}", key, "id", bare=key)
        for i, (alias, s) in enumerate(sources):
            for c in self.subset(s, 1, 4 if i == 0 else 3) + [k for k in s.keys if k != key and i == 0]:
                if c in out.columns and i > 0 and self.rng.random() < 0.5:
                    continue
                ref = c if counts[c] == 1 and self.rng.random() < 0.5 else f"{alias}.{c}"
                name = c if c not in out.columns else f"{alias}_{c}"
                if self.rng.random() < 0.7:
                    out.add(ref, name, s.columns[c], bare=ref.split(".")[-1])
                else:
                    self.derived(out, ref, name, s.columns[c])

    def t_join(self, sources: list[Source], key: str) -> tuple[str, dict[str, str]]:
        """LEFT/INNER joins on a shared key, ON or USING."""
        aliases = ["a", "b", "c"]
        pairs = list(zip(aliases, sources, strict=False))
        using = self.rng.random() < 0.35
        out = Out()
        self.join_projection(out, pairs, key, using)
        if self.rng.random() < 0.4:
            a0, s0 = pairs[0]
            for alias, s in pairs[1:]:
                ts = [t for t in s.of("ts")]
                if ts:
                    out.add(f"greatest({a0}.{s0.of('ts')[0]}, coalesce({alias}.{ts[0]}, {a0}.{s0.of('ts')[0]}))"
                            if s0.of("ts") else f"{alias}.{ts[0]}", f"{alias}_last_seen_at", "ts")
                    break
        sql = f"select\n    {out.sql()}\nfrom {sources[0].key} as a"
        for alias, s in pairs[1:]:
            kind = self.rng.choice(("left join", "left join", "join"))
            cond = f"using ({key})" if using else f"on {alias}.{key} = a.{key}"
            sql += f"\n{kind} {s.key} as {alias} {cond}"
        where = self.predicate(sources[0], "a") if self.rng.random() < 0.3 else None
        if where:
            sql += f"\nwhere {where}"
        return sql, out.columns

    def t_agg_join(self, sources: list[Source], key: str) -> tuple[str, dict[str, str]]:
        """Aggregate the secondary inputs in CTEs, LEFT JOIN them to the primary one."""
        primary, rest = sources[0], sources[1:]
        ctes, out = [], Out()
        out.add(f"p.{key}", key, "id", bare=key)
        for c in self.subset(primary, 1, 4):
            if self.rng.random() < 0.6:
                out.add(f"p.{c}", c, primary.columns[c], bare=c)
            else:
                self.derived(out, f"p.{c}", c, primary.columns[c])
        joins = []
        for i, s in enumerate(rest):
            name = f"{root(s.key.split('.')[-1])}_stats"
            name = name if name not in ("p",) else name + "_x"
            if any(name == c[0] for c in ctes):
                name += f"_{i}"
            agg = Out()
            agg.add(key, key, "id", bare=key)
            agg.add("count(*)", f"n_{root(s.key.split('.')[-1])}", "int")
            for c in self.pick(s.of("num"), 2):
                agg.add(f"sum({c})", f"total_{root(c)}", "num")
            for c in self.pick(s.of("ts"), 1):
                agg.add(f"max({c})", f"last_{root(c)}", "ts")
            ctes.append((name, f"{name} as (\n    select\n        {agg.sql('        ')}\n    from {s.key}\n"
                               f"    group by {key}\n)"))
            for c, kind in agg.columns.items():
                if c == key:
                    continue
                expr = f"coalesce({name}.{c}, 0)" if kind in ("int", "num") else f"{name}.{c}"
                out.add(expr, c if c not in out.columns else f"{name}_{c}", kind)
            joins.append(f"left join {name} on {name}.{key} = p.{key}")
        sql = ("with " + ",\n".join(c for _, c in ctes) + f"\nselect\n    {out.sql()}\nfrom {primary.key} as p\n"
               + "\n".join(joins))
        return sql, out.columns

    def t_semi(self, sources: list[Source], key: str) -> tuple[str, dict[str, str]]:
        """Correlated EXISTS / NOT EXISTS against the other input."""
        a, b = sources[0], sources[1]
        out = Out()
        for k in a.keys:
            out.add(f"o.{k}", k, "id", bare=k)
        for c in self.subset(a, 1, 4):
            self.derived(out, f"o.{c}", c, a.columns[c])
        neg = "not " if self.rng.random() < 0.3 else ""
        extra = self.predicate(b, "x")
        cond = f"x.{key} = o.{key}" + (f" and {extra}" if extra and self.rng.random() < 0.5 else "")
        sql = (f"select\n    {out.sql()}\nfrom {a.key} as o\n"
               f"where {neg}exists (\n    select 1\n    from {b.key} as x\n    where {cond}\n)")
        return sql, out.columns

    def t_union(self, sources: list[Source], key: str) -> tuple[str, dict[str, str]] | None:
        """UNION ALL of the columns the inputs share, aggregated in an outer query."""
        a, b = sources[0], sources[1]
        shared = [c for c in a.columns if c in b.columns and a.columns[c] == b.columns[c] and c != key]
        if len(shared) < 1:
            return None
        cols = [key] + shared[:4]
        branch = ",\n        ".join(cols)
        nums = [c for c in cols if a.columns[c] == "num"]
        tss = [c for c in cols if a.columns[c] == "ts"]
        out = Out()
        out.add(f"u.{key}", key, "id", bare=key)
        out.add("u.origin", "origin", "text", bare="origin")
        out.add("count(*)", "n_rows", "int")
        for c in nums:
            out.add(f"sum(u.{c})", f"total_{root(c)}", "num")
        for c in tss:
            out.add(f"max(u.{c})", f"last_{root(c)}", "ts")
        sql = (f"with unioned as (\n    select\n        {branch},\n        'a' as origin\n    from {a.key}\n"
               f"    union all\n    select\n        {branch},\n        'b' as origin\n    from {b.key}\n)\n"
               f"select\n    {out.sql()}\nfrom unioned as u\ngroup by u.{key}, u.origin")
        return sql, out.columns

    # -- project -----------------------------------------------------------------------------------
    def choose_inputs(self, pool: list[Source], count: int) -> tuple[list[Source], str]:
        """A primary input (biased to recent models, making chains) plus others sharing a join key."""
        recent = pool[-40:]
        primary = self.rng.choice(recent if self.rng.random() < 0.6 else pool)
        key = self.rng.choice(primary.keys)
        chosen = [primary]
        candidates = [s for s in pool if s is not primary and key in s.keys]
        for s in self.pick(candidates, count - 1):
            chosen.append(s)
        return chosen, key

    def generate(self) -> list[tuple[str, str, str]]:
        """[(layer, name, sql)] in creation order (a valid dependency order)."""
        n_staging = max(3, int(self.n * 0.3))
        files: list[tuple[str, str, str]] = []
        models: list[Source] = []
        for i in range(self.n):
            staging = i < n_staging
            layer = "staging" if staging else "marts"
            if staging:
                if i < 3 or not models or self.rng.random() < 0.6:
                    inputs, key = [self.raw[i % 3] if i < 3 else self.rng.choice(self.raw)], ""
                else:
                    inputs, key = self.choose_inputs(models, self.rng.choice((1, 1, 2)))
                name = f"stg_{inputs[0].entity}_{i:04d}"
            else:
                pool = models + (self.raw if self.rng.random() < 0.05 else [])
                inputs, key = self.choose_inputs(pool, self.rng.choice((1, 2, 2, 3, 3)))
                name = f"{self.rng.choice(('fct', 'dim', 'agg', 'rpt', 'int'))}_{inputs[0].entity}_{i:04d}"
            sql, columns = self.render(inputs, key, star_ok=staging)
            depth = 1 + max(s.depth for s in inputs)
            self.edges += sum(1 for s in inputs if "." not in s.key)
            # staging views read raw live, so they stay internal (lint rule L008)
            header = (f"-- materialized: {'view' if staging else 'table'}\n"
                      + ("-- published: false\n" if staging else "")
                      + f"-- description: generated model {i} ({len(inputs)} input(s)).\n"
                      f"-- tags: {layer}, bench\n")
            files.append((layer, name, header + sql + "\n"))
            models.append(Source(name, columns, depth, inputs[0].entity))
        self.sources = models
        return files

    def render(self, inputs: list[Source], key: str, star_ok: bool) -> tuple[str, dict[str, str]]:
        if len(inputs) == 1:
            src = inputs[0]
            t = self.rng.random()
            if t < 0.3:
                return self.t_project(src)
            if t < 0.5:
                return self.t_aggregate(src)
            if t < 0.65:
                return self.t_dedup(src, star_ok)
            if t < 0.82:
                return self.t_window(src)
            return self.t_cte_chain(src)
        t = self.rng.random()
        if t < 0.5:
            return self.t_join(inputs, key)
        if t < 0.75:
            return self.t_agg_join(inputs, key)
        if t < 0.88:
            return self.t_semi(inputs, key)
        return self.t_union(inputs, key) or self.t_join(inputs, key)


def write_project(directory: Path, n: int, seed: int) -> dict:
    gen = Generator(n, seed)
    files = gen.generate()
    models_dir = directory / "models"
    for layer, name, sql in files:
        path = models_dir / layer / f"{name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql, encoding="utf-8")
    return {
        "models_dir": str(models_dir),
        "files": len(files),
        "staging": sum(1 for f in files if f[0] == "staging"),
        "marts": sum(1 for f in files if f[0] == "marts"),
        "edges": gen.edges,
        "max_depth": max(s.depth for s in gen.sources),
        "bytes": sum(len(f[2]) for f in files),
    }


# ---------------------------------------------------------------------------------------------------
# Workers: each runs in a fresh interpreter and prints one JSON line
# ---------------------------------------------------------------------------------------------------

def worker_phases(models_dir: Path) -> dict:
    t = time.perf_counter()
    from transforms.compile import compile_model
    from transforms.graph import topological_order
    from transforms.plan import lint_project
    imports = time.perf_counter() - t

    t0 = time.perf_counter()
    context, violations = lint_project(models_dir, RAW)
    t1 = time.perf_counter()
    models = context.by_name
    order = topological_order(models)
    t2 = time.perf_counter()
    for name in order:
        compile_model(models[name], TARGET)
    t3 = time.perf_counter()
    return {"imports": imports, "lint": t1 - t0, "order": t2 - t1, "compile": t3 - t2,
            "models": len(context.models), "parse_errors": len(context.parse_errors),
            "violations": [str(v) for v in violations], "ordered": len(order)}


def worker_total(models_dir: Path) -> dict:
    t = time.perf_counter()
    from transforms.plan import make_plan
    imports = time.perf_counter() - t
    from elt.errors import EltError
    t0 = time.perf_counter()
    try:
        ordered = len(make_plan(models_dir, RAW, TARGET).order)
    except EltError as err:  # still report the time; the phases worker lists the violations
        ordered, _ = -1, err
    return {"imports": imports, "total": time.perf_counter() - t0, "ordered": ordered}


def worker_raw(models_dir: Path) -> dict:
    t = time.perf_counter()
    import sqlglot
    imports = time.perf_counter() - t
    t0 = time.perf_counter()
    texts = [p.read_text(encoding="utf-8") for p in sorted(models_dir.rglob("*.sql"))]
    trees = [sqlglot.parse_one(text, read="duckdb") for text in texts]
    t1 = time.perf_counter()
    for tree in trees:
        tree.sql(dialect=TARGET)
    t2 = time.perf_counter()
    return {"imports": imports, "parse": t1 - t0, "transpile": t2 - t1, "total": t2 - t0, "files": len(texts)}


def worker_breakdown(models_dir: Path) -> dict:
    """Where lint_project's time goes: same calls as load_context + lint, timed separately."""
    from transforms.graph import dependencies
    from transforms.lint import LintContext, _order_ignoring_cycles
    from transforms.lint.rules import RULES
    from transforms.models import discover, parse_model
    from transforms.schema import project_relations

    times: dict[str, float] = {}
    t = time.perf_counter()
    paths = discover(models_dir)
    times["discover"] = time.perf_counter() - t
    t = time.perf_counter()
    models = [parse_model(p, models_dir, "duckdb") for p in paths]
    times["parse_model (read+config+parse+refs)"] = time.perf_counter() - t
    t = time.perf_counter()
    context = LintContext(models=models, parse_errors=[], raw=RAW)
    by_name = context.by_name
    order = _order_ignoring_cycles(dependencies(by_name))
    times["_order_ignoring_cycles"] = time.perf_counter() - t
    t = time.perf_counter()
    context.relations = project_relations(by_name, order, RAW)
    times["project_relations"] = time.perf_counter() - t
    for rule in RULES:
        t = time.perf_counter()
        list(rule.check(context))
        times[f"rule {rule.CODE} {rule.__name__.rsplit('.', 1)[-1]}"] = time.perf_counter() - t
    return times


def worker_profile(models_dir: Path, top: int) -> dict:
    import cProfile
    import io
    import pstats

    from transforms.plan import make_plan
    profiler = cProfile.Profile()
    profiler.enable()
    make_plan(models_dir, RAW, TARGET)
    profiler.disable()
    text = {}
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(top)
        text[key] = buf.getvalue()
    return text


def worker_verify(models_dir: Path) -> dict:
    """Independent check of the generator: create every model as a DuckDB view over empty raw tables.

    DuckDB binds every column and function at CREATE VIEW, so if this passes the generated SQL is valid
    and any lint violation on the project is a lint-rule bug, not a generator bug.
    """
    import duckdb

    types = {"id": "bigint", "num": "decimal(18, 2)", "int": "bigint", "ts": "timestamp", "text": "varchar"}
    con = duckdb.connect()
    con.execute("create schema raw_shop")
    for table, cols in RAW_TABLES.items():
        con.execute(f"create table {table} ({', '.join(f'{c} {types[k]}' for c, k in cols.items())})")
    paths = {p.stem: p for p in models_dir.rglob("*.sql")}
    failures = []
    for name in sorted(paths, key=lambda n: int(n.rsplit("_", 1)[-1])):  # generation order = dependency order
        try:
            con.execute(f"create view {name} as\n{paths[name].read_text(encoding='utf-8')}")
        except duckdb.Error as err:
            failures.append(f"{name}: {str(err).splitlines()[0]}")
    return {"views": len(paths) - len(failures), "failures": failures}


WORKERS = {"verify": worker_verify, "phases": worker_phases, "total": worker_total, "raw": worker_raw,
           "breakdown": worker_breakdown}


def run_worker(kind: str, models_dir: str, extra: list[str] | None = None) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--project", models_dir, *(extra or [])]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"worker {kind} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def lint_project_dir(tmp: Path, models_dir: Path) -> Path:
    """A project around the generated models: elt.toml, and the raw tables (empty) in its DuckDB warehouse."""
    import duckdb

    project = tmp / "project"
    shutil.copytree(models_dir, project / "transforms" / "models")
    (project / "checks" / "contracts").mkdir(parents=True)
    (project / "elt.toml").write_text('[project]\nname = "bench"\n\n[targets.dev]\ntype = "duckdb"\n'
                                      'path = "wh.duckdb"\n', encoding="utf-8")
    con = duckdb.connect(str(project / "wh.duckdb"))
    for relation, columns in RAW_TABLES.items():
        con.execute(f"create schema if not exists {relation.split('.')[0]}")
        con.execute(f"create table {relation} ("
                    + ", ".join(f"{c} {COLUMN_TYPES[k]}" for c, k in columns.items()) + ", _dlt_load_id varchar)")
    con.close()
    return project


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
        raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode})")
    return seconds


def whole_processes(project: Path, pairs: int) -> dict[str, list[float]]:
    """Seconds of each whole process, in turn: raw parse, cold lint, unchanged lint (after a clean one)."""
    times: dict[str, list[float]] = {"raw": [], "cold": [], "unchanged": []}
    raw = [sys.executable, "-c", RAW_PARSE, str(project / "transforms" / "models")]
    for _ in range(pairs):
        times["raw"].append(timed(raw, project))
        times["cold"].append(timed([str(ELT), "lint", "--no-cache"], project))
        times["unchanged"].append(timed([str(ELT), "lint"], project))
    return times


def spread(values: list[float]) -> str:
    return f"min {min(values):.3f}  median {statistics.median(values):.3f}  max {max(values):.3f}"


# ---------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", type=int, default=1000, help="number of models to generate (default 1000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--runs", type=int, default=1, help="fresh-process runs per measurement; the median is reported")
    ap.add_argument("--keep", action="store_true", help="keep the generated project and print its path")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the per-step breakdown of lint_project")
    ap.add_argument("--verify", action="store_true",
                    help="also create every generated model as a DuckDB view (checks the generator, not lint)")
    ap.add_argument("--profile", action="store_true", help="also cProfile make_plan in a fresh process")
    ap.add_argument("--top", type=int, default=35, help="rows of profile output")
    ap.add_argument("--pairs", type=int, default=5, help="whole-process `elt lint` pairs (default 5)")
    ap.add_argument("--check", action="store_true",
                    help=f"exit 1 if `elt lint` takes over {TARGET_SECONDS} s cold or {UNCHANGED_TARGET_SECONDS} s "
                    "unchanged (median)")
    ap.add_argument("--worker", choices=[*WORKERS, "profile"], help=argparse.SUPPRESS)
    ap.add_argument("--project", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.worker:
        models_dir = Path(args.project)
        result = worker_profile(models_dir, args.top) if args.worker == "profile" else WORKERS[args.worker](models_dir)
        print(json.dumps(result))
        return 0

    tmp = Path(tempfile.mkdtemp(prefix="elt-bench-"))
    try:
        t = time.perf_counter()
        info = write_project(tmp, args.models, args.seed)
        gen_s = time.perf_counter() - t
        md = info["models_dir"]
        print(f"project: {info['files']} models ({info['staging']} staging, {info['marts']} marts), "
              f"{info['edges']} model->model edges, max depth {info['max_depth']}, "
              f"{info['bytes'] / 1024:.0f} KiB SQL; generated in {gen_s:.2f} s (seed {args.seed})")
        print(f"python {sys.version.split()[0]}, sqlglot {_sqlglot_version()}, target {TARGET}, "
              f"each measurement in a fresh process, runs={args.runs} (median)")

        def median_of(kind: str) -> tuple[dict, list[dict]]:
            results = [run_worker(kind, md) for _ in range(args.runs)]
            med = {k: statistics.median(r[k] for r in results) if isinstance(results[0][k], float) else results[0][k]
                   for k in results[0]}
            return med, results

        phases, _ = median_of("phases")
        total, total_runs = median_of("total")
        raw, _ = median_of("raw")

        n = phases["models"]
        ok = not phases["violations"] and not phases["parse_errors"] and phases["ordered"] == info["files"]

        def row(label: str, seconds: float, rate: bool = True) -> None:
            print(f"  {label:<44} {seconds:7.3f} s" + (f"   {n / seconds:8.0f} models/s" if rate and seconds else ""))

        print("\nphases (one cold process):")
        row("import transforms (not counted)", phases["imports"], rate=False)
        row("discovery+parse+lint  lint_project()", phases["lint"])
        row("dependency ordering   topological_order()", phases["order"])
        row(f"compile to {TARGET}   compile_model() x{n}", phases["compile"])
        row("sum of phases", phases["lint"] + phases["order"] + phases["compile"])
        print(f"  lint violations on the generated project: {len(phases['violations'])}"
              f" (parse errors: {phases['parse_errors']})")
        for v in phases["violations"][:25]:
            print(f"    {v}")
        if len(phases["violations"]) > 25:
            print(f"    ... {len(phases['violations']) - 25} more")
        if phases["violations"] and not args.verify:
            print("    (rerun with --verify: if DuckDB accepts every generated model, these are lint-rule bugs;"
                  " if it rejects the same models, the generator is wrong)")

        print("\ntotal (separate cold process):")
        row("make_plan(models_dir, raw, 'postgres')", total["total"])
        if args.runs > 1:
            print("    runs: " + ", ".join(f"{r['total']:.3f}" for r in total_runs))

        print("\nraw sqlglot floor (separate cold process):")
        row("import sqlglot (not counted)", raw["imports"], rate=False)
        row("read + sqlglot.parse_one(read='duckdb')", raw["parse"])
        row(f".sql(dialect='{TARGET}')", raw["transpile"])
        row("raw floor total", raw["total"])

        ratio = total["total"] / raw["total"]
        phase_sum = phases["lint"] + phases["order"] + phases["compile"]
        print(f"\nratio make_plan / raw floor: {ratio:.2f}x   "
              f"(sum of phases / raw floor: {phase_sum / raw['total']:.2f}x)")
        verdict = "PASS" if total["total"] < TARGET_SECONDS else "FAIL"
        print(f"target: {args.models} models < {TARGET_SECONDS:.1f} s cold -> "
              f"make_plan {total['total']:.3f} s: {verdict}")

        if not args.no_breakdown:
            bd = run_worker("breakdown", md)
            print("\nlint_project breakdown (separate cold process, same calls as load_context + lint):")
            for label, seconds in bd.items():
                row(label, seconds, rate=False)

        if args.verify:
            ver = run_worker("verify", md)
            print(f"\nDuckDB verification of the generator: {ver['views']}/{info['files']} models created as views")
            for f in ver["failures"][:25]:
                print(f"    {f}")
            ok = ok and not ver["failures"]

        if args.profile:
            prof = run_worker("profile", md, ["--top", str(args.top)])
            print("\ncProfile of make_plan (cold process), by cumulative time:\n" + prof["cumulative"])
            print("by own time:\n" + prof["tottime"])

        times = whole_processes(lint_project_dir(tmp, Path(md)), args.pairs)
        print(f"\n`elt lint` as a whole process, {args.models} models, {args.pairs} pair(s) in turn (seconds):")
        ratios = [c / r for c, r in zip(times["cold"], times["raw"], strict=True)]
        for label, values in (("raw: python, sqlglot.parse_one of every file", times["raw"]),
                              ("cold: elt lint --no-cache", times["cold"]),
                              ("unchanged: elt lint after a clean lint", times["unchanged"]),
                              ("ratio cold / raw", ratios)):
            print(f"  {label:<46} {spread(values)}")
        cold, unchanged = statistics.median(times["cold"]), statistics.median(times["unchanged"])
        met = cold <= TARGET_SECONDS and unchanged <= UNCHANGED_TARGET_SECONDS
        print(f"target: cold <= {TARGET_SECONDS} s: {cold:.3f} s {'met' if cold <= TARGET_SECONDS else 'MISSED'}; "
              f"unchanged <= {UNCHANGED_TARGET_SECONDS} s: {unchanged:.3f} s "
              f"{'met' if unchanged <= UNCHANGED_TARGET_SECONDS else 'MISSED'}")

        if not ok:
            print("\nFAILED: lint must report 0 violations and every model must be ordered", file=sys.stderr)
            return 1
        return 1 if args.check and not met else 0
    finally:
        if args.keep:
            print(f"\nproject kept at {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _sqlglot_version() -> str:
    from importlib.metadata import version

    return version("sqlglot")


if __name__ == "__main__":
    sys.exit(main())
