"""`elt docs`: write the static docs site of the project; the warehouse is read, never written."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from elt_cli.common import project_of, relative


def cmd_docs(args: argparse.Namespace) -> int:
    project = project_of(args)
    from docs_site.site import write_site

    target = project.target(args.target)
    written = write_site(project, target, Path(args.out) if args.out else None)
    if written.note:
        print(f"note: {written.note}", file=sys.stderr)
    where = relative(str(written.out))
    print(f"wrote {written.pages} pages to {where}/ (largest: {written.largest[0]}, {written.largest[1]:,} bytes)")
    print(f"open {where}/index.html, or serve it: python -m http.server -d {where}")
    return 0
