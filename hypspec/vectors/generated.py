"""What a vector category's generator hands to `hypspec vectors`: one shape for every category."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from hypspec.output import Meter
from hypspec.vectors.paths import Path

# What the generators' meters count (`hypspec.output.Meter`; `hypspec vectors` puts the category
# before each): the paths the search finds, then the vectors made (witnesses, any catalogue or
# scenarios, and the random ones).
PATHS_FOUND = "feasible paths found"
VECTORS_MADE = "vectors made"


@dataclass
class Generated:
    """The vectors, the feasible paths and those the vectors hit, the feasible paths the harness
    cannot run (with the names of the rules that exclude each), and the fields the category adds
    to the file's meta record (a script category's prelude, the timers' count window)."""

    vectors: list[dict[str, Any]]
    feasible: set[Path]
    hit: set[Path]
    not_runnable: dict[Path, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Made:
    """The vectors a generator has made so far and the paths they hit, counted on its meter."""

    meter: Meter
    vectors: list[dict[str, Any]] = field(default_factory=list)
    hit: set[Path] = field(default_factory=set)

    def add(self, record: dict[str, Any], paths: Iterable[Path]) -> None:
        self.vectors.append(record)
        self.hit.update(paths)
        self.meter.advance()
