"""Model discovery, parsing, lint, dependency graph, transpilation, fingerprints and candidate builds.

Only this package imports sqlglot.
"""
