"""Argument types the subcommands share: each turns the text a user typed into a value or refuses
it with a message argparse prints under the option's name (exit 2), before any work starts."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable
from pathlib import Path

from hypspec.names import did_you_mean

# Z3 takes a timeout in milliseconds as a 32-bit number.
MAX_TIMEOUT_SECONDS = (2**32 - 1) // 1000
# The solver time each property (and each obligation of a model whose manifest budgets none) is
# given when the user names none: `hypspec prove --timeout`.
DEFAULT_TIMEOUT_S = 20.0
# The PEs a model's campaign runs on unless told otherwise (`hypspec explore --pes`, and the
# stateful test's): the fewest on which a vCPU can move and one PE's steps can interleave with
# another's.
DEFAULT_PES = 2
# More processes than this is a typo, not a machine: each one is a Python with the spec loaded,
# or a QEMU.
MAX_JOBS = 256


def positive_seconds(text: str) -> float:
    """A solver timeout in seconds: a finite number, at least a millisecond (Z3's unit), at most
    what Z3 can count."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value < 0.001:
        raise argparse.ArgumentTypeError(
            f"a timeout must be a finite number of seconds, at least 0.001, not {text}")
    if value > MAX_TIMEOUT_SECONDS:
        raise argparse.ArgumentTypeError(
            f"a timeout must be at most {MAX_TIMEOUT_SECONDS} seconds (Z3 counts milliseconds in 32 bits), "
            f"not {text}")
    return value


def path_argument(text: str) -> Path:
    """A file or directory the user named. Not empty: Path("") is the working directory, which is
    never what an empty argument (an unset shell variable, say) meant."""
    if not text:
        raise argparse.ArgumentTypeError("an empty path: name a file or directory ('.' for this one)")
    return Path(text)


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argument type for a whole number (decimal, 0x, 0b or 0o) from `minimum` to `maximum`."""

    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum}, not {value}")
        return value

    parse.__name__ = "whole number"  # what argparse names the type in its own messages
    return parse


positive_count = whole_number(1)
job_count = whole_number(1, MAX_JOBS)


def one_of(kind: str, names: Iterable[str]) -> Callable[[str], str]:
    """An argument type for one of `names`; an unknown one is refused with the closest names.

    Used instead of argparse's `choices`, whose message lists the choices but suggests none.
    """
    known = sorted(names)

    def parse(text: str) -> str:
        if text not in known:
            raise argparse.ArgumentTypeError(
                f"invalid choice: '{text}'{did_you_mean(text, known)} (choose from {', '.join(known)})")
        return text

    parse.__name__ = kind
    return parse


def output_file(text: str) -> Path:
    """A file a command writes when it is done (`--junit`): refused now if it names a directory,
    rather than after minutes of proofs or QEMU runs."""
    path = path_argument(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a directory: name the file to write")
    return path
