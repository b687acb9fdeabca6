"""Unknown names: the one message every command and the API give for a name that does not exist,
with the closest known names as a suggestion."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from hypspec.exitcodes import UsageError


class UnknownNameError(UsageError, KeyError):
    """A function, register, property, category or variant that does not exist.

    Also a KeyError, which is what looking up such a name raised before it had a class of its own.
    """

    def __str__(self) -> str:
        # KeyError's own str() would quote the message
        return str(self.args[0]) if self.args else ""


def did_you_mean(name: object, known: Iterable[str]) -> str:
    """" (did you mean 'X'?)" for the known names closest to `name`, or "" when none is close."""
    if not isinstance(name, str):
        return ""
    known = list(known)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    if not close:
        # a name given without its namespace ("Containment" for "Stage2.Containment") or in the
        # wrong case is close in meaning but far in edit distance
        folded = name.casefold()
        close = [k for k in known if k.casefold().endswith("." + folded) or k.casefold() == folded][:3]
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"


def quoted(name: object) -> str:
    """A name as a message shows it: a string in quotes, anything else (a list given for a name)
    as Python writes it."""
    return f"'{name}'" if isinstance(name, str) else repr(name)


def unknown_name(kind: str, name: object, known: Iterable[str], hint: str = "") -> str:
    """The message for a name that is not among `known`: what kind of name, the suggestion, and
    `hint` (where to find the known names)."""
    return f"unknown {kind} {quoted(name)}{did_you_mean(name, known)}{hint}"
