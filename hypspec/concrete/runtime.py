"""Run-time support for compiled spec code: what a generated module imports.

Values are plain Python: bit strings and integers are ints (bit strings kept
masked to their width, integers wrapped to 64-bit two's complement so they
match the symbolic semantics exactly), booleans are bools, enumerations ints,
records and arrays tuples, and maps dicts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field

_SIGN = 1 << 63
_WORD = (1 << 64) - 1


class SpecAssertionError(Exception):
    """An `assert` in the spec failed: the inputs broke a stated precondition."""

    def __init__(self, loc: str) -> None:
        super().__init__(f"{loc}: assertion failed")
        self.loc = loc


class NotExecutable(Exception):
    """A construct with no concrete meaning (a `forall`) was reached."""


def wrap(value: int) -> int:
    """An integer result as 64-bit two's complement."""
    return ((value + _SIGN) & _WORD) - _SIGN


def sint(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) & 1 else value


def sign_extend(value: int, width: int, to: int) -> int:
    return sint(value, width) & ((1 << to) - 1)


def check_index(index: int, length: int, loc: str) -> int:
    if not 0 <= index < length:
        raise SpecAssertionError(f"{loc}: index {index} outside 0..{length - 1}")
    return index


def tuple_set(values: tuple, index: int, item: object) -> tuple:
    return (*values[:index], item, *values[index + 1 :])


@dataclass
class Oracle:
    """Chooses UNKNOWN values.

    The choice is a function of the seed and the spec location, so within one
    run an UNKNOWN written at one place has one value however often it is
    evaluated. That makes a run reproducible from its seed, and lets the
    symbolic semantics be instantiated with exactly the values a concrete run
    used (every fresh constant for that location gets the same value).
    `overrides` pins locations to given values, to replay a counterexample.
    """

    seed: int = 0
    overrides: dict[str, int] = field(default_factory=dict)
    chosen: dict[str, int] = field(default_factory=dict)

    def value(self, loc: str, width: int) -> int:
        if loc in self.overrides:
            return self.overrides[loc] & ((1 << width) - 1)
        digest = hashlib.sha256(f"{self.seed}:{loc}".encode()).digest()
        return int.from_bytes(digest, "little") & ((1 << width) - 1)

    def choose(self, loc: str, width: int) -> int:
        value = self.value(loc, width)
        self.chosen[loc] = value
        return value


class FilledOracle(Oracle):
    """Every UNKNOWN all zeros (fill 0) or all ones (fill -1): comparing the two
    runs shows which output bits depend on an UNKNOWN, so vectors can mask them."""

    def __init__(self, fill: int) -> None:
        super().__init__(0)
        self.fill = fill

    def value(self, loc: str, width: int) -> int:
        return self.fill & ((1 << width) - 1)


def clear_where(table: dict, matches: Callable[[int], bool], zero: object) -> None:
    """`clear M[k] where cond;`: every key that matches reads as `zero` from now on, including
    keys a recording map has not supplied yet."""
    for key in [k for k in table if matches(k)]:
        table[key] = zero
    if isinstance(table, RecordingMap):
        table.cleared.append((matches, zero))


class RecordingMap(dict):
    """A map that remembers which keys were read, and can supply missing ones.

    Counterexample replay reads memory through it: `fill` gives the solver's
    value for a word no one wrote, and `read` lists the words the run used.
    """

    def __init__(self, items: dict, fill=None) -> None:
        super().__init__(items)
        self.fill = fill
        self.read: dict[int, int] = {}  # key -> value it held before the run wrote it
        self.written: set[int] = set()
        # the run's clears, newest last: a key one matches reads as its zero, not as `fill`'s
        self.cleared: list[tuple[Callable[[int], bool], object]] = []

    def __setitem__(self, key, value) -> None:
        self.written.add(key)
        super().__setitem__(key, value)

    def get(self, key, default=None):
        cleared = None if key in self else next((z for matches, z in self.cleared if matches(key)), None)
        if key in self:
            value = self[key]
        elif cleared is not None:
            return cleared  # the run's own value, not one the state held before it
        elif self.fill is not None:
            value = self.fill(key)
        else:
            value = default
        if key not in self.written:
            self.read.setdefault(key, value)
        return value
