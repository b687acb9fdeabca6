"""The tlb vectors on QEMU through `hypspec conform`: the catalogue (no random vectors) agrees,
QEMU's TLB is seen to keep a stale translation where the spec allows one (so the harness does
observe the TLB, rather than a fresh walk every time), and a vector that forbids what QEMU does
is reported as a disagreement naming the runs it allows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hypspec.vectors.store import read_vectors, write_vectors
from tests.helpers.conform_report import conform_json
from tests.helpers.generated import generated_twice
from tests.vectors.test_tlb_vectors import NEW, OLD


@pytest.fixture(scope="module")
def catalogue() -> Path:
    return generated_twice("tlb", 5, 0)[0]


@pytest.fixture(scope="module")
def report(catalogue: Path) -> dict[str, Any]:
    return conform_json(catalogue)


def test_the_catalogue_agrees_with_qemu(report: dict[str, Any]) -> None:
    assert report["status"] == 0, report["disagreements"]
    counts = report["categories"]["tlb"]
    assert counts["vectors"] == counts["agree"] >= 40


def _with_outcomes(vector: dict[str, Any], reads: list[tuple[int, ...]]) -> dict[str, Any]:
    return {**vector, "outcomes": [{"reads": [hex(v) for v in r], "stop": None} for r in reads]}


def test_qemu_keeps_a_stale_entry_and_a_vector_that_forbids_it_disagrees(
    catalogue: Path, tmp_path: Path
) -> None:
    """remap-none allows the old frame and the new; QEMU's software TLB keeps the entry the first
    read filled, so it returns the old one. The same run against only the new frame (what the
    spec requires after a TLBIALL) is a disagreement; against only the old one it agrees."""
    contents = read_vectors(catalogue)
    stale = next(v for v in contents.vectors if v["id"] == "tlb-s-remap-none")
    vectors = [
        _with_outcomes({**stale, "id": "forbids-old"}, [(OLD, NEW)]),
        _with_outcomes({**stale, "id": "requires-old"}, [(OLD, OLD)]),
    ]
    path = tmp_path / "tlb.jsonl"
    write_vectors(path, {**contents.meta, "count": len(vectors)}, vectors)
    report = conform_json(path)
    assert report["status"] == 1
    (found,) = report["disagreements"]
    assert found["vector_id"] == "forbids-old" and found["field"] == "outcome"
    assert "one of: reads [0xda7a0a00, 0xda7a0a06]" in found["expected"]
    assert found["observed"].startswith("reads [0xda7a0a00, 0xda7a0a00]"), json.dumps(found)
