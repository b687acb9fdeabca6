"""The exit codes of every `hypspec` subcommand, defined once.

`hypspec --help` prints this table and docs/cli.md shows it (a test holds the two to this
module), so a script that runs hypspec can tell a failed proof from a typo from a broken QEMU.
"""

from __future__ import annotations

import textwrap
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    HARNESS = 3
    # 128 + SIGINT, what a shell reports for a program that Ctrl-C stopped
    INTERRUPTED = 130

    @property
    def meaning(self) -> str:
        return _MEANINGS[self]


_MEANINGS = {
    ExitCode.OK: "success: the spec checks, every proof holds, every vector agrees",
    ExitCode.FAILED: "a failed check: the spec has errors, a property is refuted or unproved, "
                     "an invariant breaks, or the implementation disagrees with the spec",
    ExitCode.USAGE: "bad usage or input: an unknown option, name or value, or a missing or "
                    "malformed file",
    ExitCode.HARNESS: "the harness failed, not the spec: QEMU or the assembler is missing or "
                      "crashed, or a run hung; no verdict",
    ExitCode.INTERRUPTED: "interrupted (Ctrl-C): what was done so far is printed, nothing "
                          "half-done is recorded or written",
}


class UsageError(ValueError):
    """Input the user can correct: the command exits with `ExitCode.USAGE`."""


def epilog(width: int = 78) -> str:
    """The table as `hypspec --help` prints it: one entry per code, its meaning wrapped."""
    lines = ["exit codes:"]
    for code in ExitCode:
        lines.append(textwrap.fill(code.meaning, width, initial_indent=f"  {code.value:<5}",
                                   subsequent_indent=" " * 7, break_on_hyphens=False))
    return "\n".join(lines)
