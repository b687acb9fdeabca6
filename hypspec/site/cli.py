"""`hypspec docs [--serve] [--out DIR]` and `python -m hypspec.site`: build the reader's site."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from hypspec.api import ROOT
from hypspec.lang.diagnostics import SpecError
from hypspec.site.build import OutputError, build, serve, source_dir
from hypspec.site.definitions import SiteError

# The exit codes every hypspec subcommand shares: 1 a failed check (here, a chapter the checker
# rejects or a site MkDocs rejects), 2 bad usage or input (an output directory not ours).
FAILED = 1
USAGE = 2


def add_docs_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("docs", help="build the reader's site (HTML) from the checked chapters",
                       description="Check spec/, models/kvm_arm/ and proofs/, write them and docs/ "
                                   "as a static site with every name linked to its definition, "
                                   "and build it with MkDocs (strict: a warning fails the build).")
    add_arguments(p)
    p.set_defaults(run=cmd_docs)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, default=ROOT / "build" / "site",
                   help="the HTML directory; the generated Markdown goes beside it, in DIR-src")
    p.add_argument("--root", type=Path, default=ROOT,
                   help="the repository whose spec/, models/kvm_arm/, proofs/ and docs/ to build")
    p.add_argument("--serve", action="store_true",
                   help="serve the site on http://127.0.0.1:8000 instead of only building it")


def cmd_docs(args: argparse.Namespace) -> int:
    try:
        if args.serve:
            serve(args.root, args.out)
            return 0
        built = build(args.root, args.out)
    except SpecError as err:
        print(err, file=sys.stderr)
        return FAILED
    except OutputError as err:
        print(f"hypspec docs: error: {err}", file=sys.stderr)
        return USAGE
    except SiteError as err:
        print(f"hypspec docs: {err}", file=sys.stderr)
        return FAILED
    print(f"site: {built.site / 'index.html'} ({built.pages} pages in {built.seconds:.1f} s; "
          f"sources in {source_dir(built.site)})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hypspec.site", description=__doc__)
    add_arguments(parser)
    return cmd_docs(parser.parse_args(argv))
