"""What a vector category's generator hands to `hypspec vectors`: one shape for every category."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hypspec.output import Meter
from hypspec.vectors.paths import Path

# What the generators' meters count (`hypspec.output.Meter`; `hypspec vectors` puts the category
# before each): the paths the search finds, then the vectors made (witnesses, any catalogue or
# scenarios, and the random ones).
PATHS_FOUND = "feasible paths found"
VECTORS_MADE = "vectors made"


class VectorSink(Protocol):
    """Where a generator puts each vector as it makes it: a file being written
    (`store.VectorWriter`), so that a run of many random vectors never holds them all, or a list."""

    @property
    def count(self) -> int: ...

    def add(self, vector: dict[str, Any]) -> None: ...


@dataclass
class VectorList:
    """The vectors kept in memory, in order (the benchmarks; anyone who wants them as a list)."""

    vectors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.vectors)

    def add(self, vector: dict[str, Any]) -> None:
        self.vectors.append(vector)


@dataclass
class Generated:
    """Where the vectors went (`out`), the feasible paths and those the vectors hit, the feasible
    paths the harness cannot run (with the names of the rules that exclude each), and the fields
    the category adds to the file's meta record (a script category's prelude, the timers' count
    window)."""

    out: VectorSink
    feasible: set[Path]
    hit: set[Path]
    not_runnable: dict[Path, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Emitted:
    """What a generator has made so far: each vector handed to `out` as it comes, the paths the
    vectors hit, and the count on the generator's meter."""

    out: VectorSink
    meter: Meter
    hit: set[Path] = field(default_factory=set)

    def add(self, record: dict[str, Any], paths: Iterable[Path]) -> None:
        self.out.add(record)
        self.hit.update(paths)
        self.meter.advance()
