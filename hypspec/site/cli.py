"""`hypspec docs [--serve] [--out DIR]` and `python -m hypspec.site`: build the reader's site."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hypspec.arguments import path_argument
from hypspec.exitcodes import ExitCode, UsageError
from hypspec.output import quiet
from hypspec.paths import BUILD_DIR, ROOT

# The site's machinery (the spec loader, MkDocs) is imported when the command runs: every hypspec
# command line registers this subcommand.


def add_docs_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("docs", help="build the reader's site (HTML) from the checked chapters",
                       description="Check spec/, models/kvm_arm/ and proofs/, write them and docs/ "
                                   "as a static site with every name linked to its definition, "
                                   "and build it with MkDocs (strict: a warning fails the build).")
    add_arguments(p)
    p.set_defaults(run=cmd_docs)
    return p


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=path_argument, default=BUILD_DIR / "site",
                   help="the HTML directory; the generated Markdown goes beside it, in DIR-src")
    p.add_argument("--root", type=path_argument, default=ROOT,
                   help="the repository whose spec/, models/kvm_arm/, proofs/ and docs/ to build")
    p.add_argument("--status", type=path_argument, nargs="+", default=[], metavar="FILE",
                   help="reports for the status pages: the JSON of `hypspec prove --json`, "
                        "`hypspec conform --json` and `hypspec table1 --json` (without one, its "
                        "page says that no report was given), and vector files (CATEGORY.jsonl), "
                        "whose path coverage is shown under each function")
    p.add_argument("--serve", action="store_true",
                   help="serve the site on http://127.0.0.1:8000 instead of only building it")


def cmd_docs(args: argparse.Namespace) -> int:
    _check_arguments(args.root, args.out)
    from hypspec.lang.diagnostics import SpecError
    from hypspec.site.build import OutputError, build, serve, source_dir
    from hypspec.site.definitions import SiteError
    from hypspec.site.status import StatusError

    try:
        if args.serve:
            serve(args.root, args.out, quiet=quiet(args), status=args.status)
            return ExitCode.OK
        built = build(args.root, args.out, args.status)
    except SpecError as err:
        print(err, file=sys.stderr)
        return ExitCode.FAILED
    except (OutputError, StatusError) as err:
        print(f"hypspec docs: error: {err}", file=sys.stderr)
        return ExitCode.USAGE
    except SiteError as err:
        print(f"hypspec docs: {err}", file=sys.stderr)
        return ExitCode.FAILED
    print(f"site: {built.site / 'index.html'} ({built.pages} pages in {built.seconds:.1f} s; "
          f"sources in {source_dir(built.site)})")
    return ExitCode.OK


def _check_arguments(root: Path, out: Path) -> None:
    """Refuse a tree without chapters and an output place that cannot be written, before the
    tree is loaded and checked (a few seconds)."""
    if not (root / "spec" / "manifest.toml").is_file():
        raise UsageError(f"--root {root}: not a hypspec tree (no spec/manifest.toml)")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: not a directory")
    existing = next(p for p in (out, *out.parents) if p.exists())
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: {existing} cannot be written")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hypspec.site", description=__doc__)
    add_arguments(parser)
    try:
        return cmd_docs(parser.parse_args(argv))
    except UsageError as err:
        print(f"python -m hypspec.site: error: {err}", file=sys.stderr)
        return ExitCode.USAGE
