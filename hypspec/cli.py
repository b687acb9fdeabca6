"""The `hypspec` command line."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from typing import Any

from hypspec.exitcodes import ExitCode, UsageError, epilog
from hypspec.interrupt import Interrupted, z3_stops_on_interrupt

# This module imports only the standard library and two small modules of its own at the top, so
# that a Ctrl-C while the engine loads (Z3, the parser, Hypothesis: a second or so) reaches
# `main`'s handler instead of printing a traceback.


class _HelpFormatter(argparse.HelpFormatter):
    """Keeps text laid out in lines (the epilog's table) as written, as RawDescriptionHelpFormatter
    does, while a one-paragraph description is still wrapped to the terminal; and shows every
    option's default, unless its help already says it or there is none to show (an option that is
    off or unset by default)."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text.strip():
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (not action.option_strings and action.nargs not in ("?", "*")) or "default" in text:
            return text
        if default is None or default is False or default == [] or default is argparse.SUPPRESS:
            return text
        return f"{text} (default: %(default)s)"


class _Parser(argparse.ArgumentParser):
    """Every parser and subparser of `hypspec` shows its defaults (`_HelpFormatter`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def version() -> str:
    """The installed version, from the package metadata; run from a checkout that was never
    installed, the version the package itself declares."""
    from importlib import metadata

    try:
        return metadata.version("hypspec")
    except metadata.PackageNotFoundError:
        from hypspec import __version__

        return __version__


class _VersionAction(argparse.Action):
    """`--version`, looking the version up only when asked: reading the package metadata costs
    a short command a tenth of its time."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        print(f"{parser.prog} {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    from hypspec.commands import add_check_parser, add_list_parser, add_prove_parser, add_run_parser
    from hypspec.conformance.cli import add_conform_parser
    from hypspec.model.cli import add_explore_parser, add_table1_parser
    from hypspec.site.cli import add_docs_parser
    from hypspec.vectors.generate import add_vectors_parser

    parser = _Parser(prog="hypspec", description=__doc__, epilog=epilog())
    parser.add_argument("--version", action=_VersionAction, help="show the version and exit")
    # before the subcommand, with one meaning for every one of them (`hypspec.output`)
    loudness = parser.add_mutually_exclusive_group()
    loudness.add_argument("-q", "--quiet", action="store_true",
                          help="no progress or informational lines on stderr (results and errors still show)")
    loudness.add_argument("-v", "--verbose", action="store_true",
                          help="more detail where the command has more to say (conform, prove; docs/cli.md)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    add_check_parser(sub)
    add_run_parser(sub)
    add_prove_parser(sub)
    add_explore_parser(sub)
    add_table1_parser(sub)
    add_vectors_parser(sub)
    add_conform_parser(sub)
    add_list_parser(sub)
    add_docs_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one subcommand; its exit code (`hypspec.exitcodes`). Usage errors exit through
    argparse's SystemExit, with code 2 as the table says."""
    try:
        args = build_parser().parse_args(argv)
        # only a command that calls the solver needs Ctrl-C turned into a stop of Z3's call, and
        # setting that up imports Z3, which a concrete command never loads
        with z3_stops_on_interrupt() if getattr(args, "solver", False) else contextlib.nullcontext():
            return _run(args)
    except KeyboardInterrupt as interrupt:
        # The one place Ctrl-C ends: whatever the command had finished it reported on its way out
        # (`Interrupted`); nothing half-done was recorded or written.
        done = f": {interrupt.done}" if isinstance(interrupt, Interrupted) else ""
        print(f"hypspec: interrupted{done}", file=sys.stderr, flush=True)
        return ExitCode.INTERRUPTED


def _run(args: argparse.Namespace) -> int:
    """The subcommand, with each kind of error a user can act on turned into its message and exit
    code (`_user_errors`). Anything else is a bug in hypspec, and keeps its traceback for the
    report."""
    try:
        return int(args.run(args))
    except Exception as err:
        for kinds, code, message in _user_errors():
            if isinstance(err, kinds):
                print(message(err), file=sys.stderr, flush=True)
                return code
        raise


def _user_errors() -> list[tuple[tuple[type[Exception], ...], ExitCode, Callable[[Any], str]]]:
    """Each family of error the subcommands raise for a reason the user can act on, the exit code
    it means and what the user reads; the first that matches is taken."""
    from hypspec.api import StateError
    from hypspec.concrete.runtime import NotExecutable, SpecAssertionError
    from hypspec.conformance.errors import (
        ConformanceError,
        ConformanceInputError,
        ToolchainMissingError,
    )
    from hypspec.lang.diagnostics import SpecError
    from hypspec.model.program import ModelError
    from hypspec.vectors.store import VectorFileError

    bad_input = (UsageError, StateError, VectorFileError, ModelError, ConformanceInputError)
    return [
        ((SpecError,), ExitCode.FAILED, _diagnostics),
        (bad_input, ExitCode.USAGE, lambda err: f"hypspec: error: {err}"),
        # the inputs break a precondition the spec states (`run Rmode 15 ...`)
        ((SpecAssertionError,), ExitCode.USAGE,
         lambda err: f"hypspec: error: the spec's assert does not hold for these inputs: {err}"),
        ((NotExecutable,), ExitCode.USAGE,
         lambda err: f"hypspec: error: {err}; `hypspec prove` is how to check it"),
        # an output directory that cannot be made or written, say
        ((OSError,), ExitCode.USAGE, _os_error),
        ((ToolchainMissingError,), ExitCode.HARNESS, lambda err: f"hypspec: error: {err}"),
        ((ConformanceError,), ExitCode.HARNESS,
         lambda err: f"hypspec: the harness failed (not a verdict on the vectors): {err}"),
    ]


def _diagnostics(err: Any) -> str:
    """Every diagnostic of a SpecError, then how many there are."""
    count = len(err.diagnostics)
    return f"{err}\n{count} error{'s' if count != 1 else ''}"


def _os_error(err: OSError) -> str:
    where = f": {err.filename}" if err.filename is not None else ""
    return f"hypspec: error: {err.strerror or err}{where}"


if __name__ == "__main__":
    sys.exit(main())
