"""`hypspec conform`: its arguments. The harness (images, QEMU, the comparison) is imported when
the command runs, so that registering the subcommand costs every other command nothing."""

from __future__ import annotations

import argparse
import json
from typing import Any

from hypspec.arguments import job_count, output_file, path_argument, positive_count
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_DEVIATIONS, DEFAULT_JOBS
from hypspec.output import meters, progress, verbose


def cmd_conform(args: argparse.Namespace) -> int:
    """Handler of ``hypspec conform``: print the report, return the exit status. Errors go to
    ``hypspec.cli``, which gives each kind its message and exit code."""
    from hypspec.conformance.conform import conform
    from hypspec.conformance.report import junit_suites
    from hypspec.junit import write_junit

    report = conform(
        args.paths,
        emit_elf=args.emit_elf,
        jobs=args.jobs,
        deviations=args.deviations,
        batch=args.batch,
        progress=progress(args),
        meter=meters(args),
    )
    if args.json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        print(report.render(verbose(args)), end="")
    if args.junit is not None:
        write_junit(args.junit, "hypspec conform", junit_suites(report))
    return report.exit_code


def add_conform_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``conform`` on an ``add_subparsers()`` object; the handler is ``args.run``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "conform",
        help="run conformance vectors on QEMU and compare with the spec",
        description=(
            "Run every vector of the given *.jsonl files (or directories of them) on the "
            "bare-metal harnesses under QEMU (stage2: one guest access under Stage 2; traps: one "
            "guest instruction under a trap configuration; gic and timers: scripts of register "
            "accesses from Hyp, SVC and User mode) and compare the results with the spec. "
            "Exit 0 when every disagreement is a known deviation, 1 when one is not (the other "
            "codes: `hypspec --help`)."
        ),
    )
    parser.add_argument("paths", nargs="+", type=path_argument, metavar="DIR_OR_FILE",
                        help="vector files or directories")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--junit", type=output_file, metavar="FILE",
                        help="also write the report as JUnit XML: a test per vector file, failed by "
                             "a disagreement no known deviation explains")
    parser.add_argument("--emit-elf", type=path_argument, metavar="DIR",
                        help="also write the images and manifests")
    parser.add_argument("--jobs", type=job_count, default=DEFAULT_JOBS, metavar="N", help="QEMU runs at once")
    parser.add_argument("--batch", type=positive_count, default=DEFAULT_BATCH, metavar="N",
                        help="cases per image")
    parser.add_argument("--deviations", type=path_argument, default=DEFAULT_DEVIATIONS, metavar="FILE",
                        help="known-deviations file")
    parser.set_defaults(run=cmd_conform)
    return parser
