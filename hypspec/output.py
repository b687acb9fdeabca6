"""What `-q`/`--quiet` and `-v`/`--verbose` mean, in one place for every subcommand.

Standard output holds a command's results; standard error holds errors and, around them,
progress and informational lines ("proving X ...", "conform: read FILE (90 vectors)"). `-q`
silences those lines and nothing else: not the results, not an error. `--json` silences them
too, as it always has, so that a machine reading the output sees only what it asked for. `-v`
asks a command for more detail where it has more to say (`docs/cli.md` lists which do).

Long work also shows a `Meter` (a count and a rate, on one line redrawn in place), but only to a
person at a terminal: a log or a pipe would keep every redraw, so there it shows nothing.

hypspec colours nothing itself (a test holds its source to no ANSI escape). The one colour that
can reach its output is MkDocs's (`docs`: its log's level names), and it passes through only to
a terminal with NO_COLOR unset (`shown`).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
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
        _line(text)


def progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    """A progress callback for a command's machinery, or None when nothing is to be shown (the
    machinery then does not build its messages at all)."""
    return _line if informing(args) else None


def _line(text: str) -> None:
    """A whole line on standard error. A meter's line drawn there is wiped first and drawn again
    below it, so that the two never run into one another."""
    meter = _Drawn.meter
    if meter is not None:
        meter.wipe()
    print(text, file=sys.stderr, flush=True)
    if meter is not None:
        meter.draw()


# How often a meter may redraw its line: more often is flicker a person cannot read, and costs the
# work it measures (explore steps thousands of times a second).
REDRAW_SECONDS = 0.1


@dataclass
class Meter:
    """How much of some long work is done, and how fast, on one line of a terminal.

    `advance` counts; at most every `REDRAW_SECONDS` the line is redrawn in place (a carriage
    return, which only a terminal shows as one line): `label 40/90, 12/s`, or `label 40, 12/s`
    without a `total`. `close` draws the final count, if any, and ends the line. A meter not `enabled`
    (see `meters`) counts and prints nothing at all. Used as a context manager it closes however
    the block ends, so that an error or Ctrl-C's message starts on a line of its own.
    """

    label: str
    total: int | None
    enabled: bool
    clock: Callable[[], float] = time.monotonic  # a test's fake clock checks the throttling
    stream: TextIO = field(default_factory=lambda: sys.stderr)
    done: int = 0

    def __post_init__(self) -> None:
        self._start = self._last = self.clock()
        self._width = 0  # of the text drawn last: a shorter one must cover all of it

    def __enter__(self) -> Meter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        now = self.clock()
        if now - self._last >= REDRAW_SECONDS:
            self._last = now
            self.draw()

    def close(self) -> None:
        if self.enabled and self.done:  # nothing counted, nothing to show
            self.draw()
            self.stream.write("\n")
            self.stream.flush()
            _Drawn.meter = None

    def draw(self) -> None:
        elapsed = self.clock() - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        # two significant digits below 10 a second (a proof may take a minute: 0.017/s)
        text = f"{self.label} {count}, {f'{rate:.2g}' if rate < 10 else f'{rate:,.0f}'}/s"
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._width = len(text)
        _Drawn.meter = self

    def wipe(self) -> None:
        self.stream.write("\r" + " " * self._width + "\r")
        self._width = 0


class _Drawn:
    """The meter whose line is on the terminal, unfinished (`_line` must not write into it)."""

    meter: Meter | None = None


MeterFactory = Callable[[str, int | None], Meter]


def meters(args: argparse.Namespace) -> MeterFactory:
    """Meters for a command's long work: shown only when `informing` and standard error is a
    terminal."""
    enabled = informing(args) and sys.stderr.isatty()
    return lambda label, total: Meter(label, total, enabled)


def no_meter(label: str, total: int | None) -> Meter:
    """A meter that shows nothing: the default of machinery run outside the command line."""
    return Meter(label, total, enabled=False)


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
