"""What `-q`/`--quiet` and `-v`/`--verbose` mean, in one place for every subcommand.

Standard output holds a command's results; standard error holds errors and, around them,
progress and informational lines ("proving X ...", "conform: 40/90 vectors run"). `-q` silences
those lines and nothing else: not the results, not an error. `--json` silences them too, as it
always has, so that a machine reading the output sees only what it asked for. `-v` asks a
command for more detail where it has more to say (`docs/cli.md` lists which do).

hypspec colours nothing itself (a test holds its source to no ANSI escape). The one colour that
can reach its output is MkDocs's (`docs`: its log's level names), and it passes through only to
a terminal with NO_COLOR unset (`shown`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable
from typing import TextIO

# Only the standard library: every command line imports this module.


def quiet(args: argparse.Namespace) -> bool:
    """Whether the user asked for no progress or informational lines. A command run without the
    global options (`python -m hypspec.site` builds its own parser) is not quiet."""
    return bool(getattr(args, "quiet", False))


def verbose(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "verbose", False))


def informing(args: argparse.Namespace) -> bool:
    """Whether informational lines go to standard error: neither `-q` nor `--json` was given."""
    return not quiet(args) and not getattr(args, "json", False)


def inform(args: argparse.Namespace, text: str) -> None:
    """One progress or informational line on standard error, unless `informing` says not."""
    if informing(args):
        print(text, file=sys.stderr, flush=True)


def progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    """A progress callback for a command's machinery, or None when nothing is to be shown (the
    machinery then does not build its messages at all)."""
    if not informing(args):
        return None
    return lambda text: print(text, file=sys.stderr, flush=True)


# An ANSI control sequence (colour, bold): ESC [ parameters final-byte.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def colour_allowed(stream: TextIO) -> bool:
    """Colour only for a person at a terminal who has not asked for none (https://no-color.org:
    NO_COLOR set to anything but the empty string)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def shown(text: str, stream: TextIO) -> str:
    """`text` as it may be written to `stream`: another program's colour removed unless
    `colour_allowed`."""
    return text if colour_allowed(stream) else _ANSI.sub("", text)
