"""Vector files are written as their vectors are made: a run of many random vectors holds one at a
time, and a write that fails leaves nothing behind."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from hypspec.api import SPEC_DIR, Spec
from hypspec.categories.timers import generate as timers
from hypspec.vectors.generated import VectorList
from hypspec.vectors.store import VectorFileError, read_vectors, vector_writer, write_vectors

RANDOM = 300


class Measured:
    """A sink that notes the traced memory at the first random vector, and keeps the vectors only
    when asked to (the control)."""

    def __init__(self, keep: bool) -> None:
        self.kept = VectorList() if keep else None
        self.count = 0
        self.base: int | None = None
        self.size = 0  # the largest random vector, as JSON

    def add(self, vector: dict[str, Any]) -> None:
        self.count += 1
        if not vector["id"].startswith("timers-r"):  # the catalogue's vectors come first
            return
        if self.base is None:
            tracemalloc.start()
            self.base = tracemalloc.get_traced_memory()[0]
        self.size = max(self.size, len(json.dumps(vector)))
        if self.kept is not None:
            self.kept.add(vector)


def held_by_the_random_loop(spec: Spec, keep: bool) -> tuple[int, int]:
    """The memory still held when the random loop of a timers run ends, beyond what it held at its
    first vector; and the size of the largest random vector as JSON."""
    sink = Measured(keep)
    try:
        timers.generate(spec, 7, RANDOM, sink)
        assert sink.base is not None
        return tracemalloc.get_traced_memory()[0] - sink.base, sink.size
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def spec() -> Spec:
    return Spec.load(SPEC_DIR)


def test_random_vectors_are_not_held(spec: Spec) -> None:
    """The random loop hands each vector on and keeps none. The control keeps them, and the same
    measurement sees more than their JSON's worth (a vector as Python objects is larger); the
    streamed run holds less than a fifth of that (after a first run has built the caches a run
    builds once)."""
    timers.generate(spec, 7, RANDOM, VectorList())
    streamed, size = held_by_the_random_loop(spec, keep=False)
    held, _ = held_by_the_random_loop(spec, keep=True)
    assert held > RANDOM * size
    assert streamed < held / 5


def test_the_file_is_whole_or_absent(tmp_path: Path, spec: Spec) -> None:
    """A vector the schema refuses stops the write with its line; neither the file nor any
    scratch file is left. A write that finishes holds the meta record first and every vector."""
    made = VectorList()
    generated = timers.generate(spec, 7, 2, made)
    good, path = made.vectors[:3], tmp_path / "timers.jsonl"
    meta = {"format": "hypspec-vectors/1", "category": "timers", "spec_hash": spec.digest,
            "generator": "test", "seed": 7, "count": 3,
            "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}}, **generated.meta}
    refused = pytest.raises(VectorFileError, match=r"timers.jsonl: vector on line 3: ")
    with refused, vector_writer(path) as writer:
        writer.add(good[0])
        writer.add({**good[1], "kind": 5})
    assert list(tmp_path.iterdir()) == []
    write_vectors(path, meta, good)
    assert [v["id"] for v in read_vectors(path).vectors] == [v["id"] for v in good]
    assert list(tmp_path.iterdir()) == [path]
