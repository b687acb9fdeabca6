"""What a vector category's generator hands to `hypspec vectors`: one shape for every category."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypspec.vectors.paths import Path


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
