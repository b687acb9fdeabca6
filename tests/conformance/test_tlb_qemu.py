"""The tlb vectors on QEMU through `hypspec conform`: the catalogue (no random vectors) agrees,
QEMU's TLB is seen to keep a stale translation where the spec allows one (so the harness does
observe the TLB, rather than a fresh walk every time), a vector that forbids what QEMU does
is reported as a disagreement naming the runs it allows, and a vector of another category after
a tlb vector in the same image runs with stage 2 off (the harness resets HCR before each)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hypspec.api import Spec
from hypspec.categories.script import image as script_image
from hypspec.categories.script.steps import (
    GICV_BASE,
    Expect,
    mmio_read,
    quiesce_steps,
    run_script,
    steps_to_json,
    with_expect,
)
from hypspec.conformance.conform import conform
from hypspec.conformance.report import ConformReport
from hypspec.vectors.store import FORMAT, read_vectors, write_vectors
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


# ---- a tlb vector leaves stage 2 on: the script harness turns it off before the next vector -----

#: What the script harness does before every vector so that a vector after a tlb one runs with
#: stage 2 off (hypspec/conformance/harness/script_harness.s, next_vector).
HCR_RESET = """        mov     r0, #0
        mcr     p15, 4, r0, c1, c1, 0   @ HCR
        isb
        begin_case"""


def _gic_vector_after_stage2(spec: Spec, tmp_path: Path) -> Path:
    """A gic file of one vector: the guest (SVC) reads GICV_CTLR, expecting what the spec says.
    GICV is at an address the tlb vectors' stage 2 tables leave unmapped (level 1 entry 0 is
    invalid), so with stage 2 still on the read takes a stage 2 Data Abort instead."""
    read = mmio_read(GICV_BASE, "svc")
    (value,) = run_script(spec, [read], 0)
    assert value is not None
    vector = {"id": "guest-reads-gicv", "category": "gic", "kind": "hcr-reset", "flags": [],
              "description": "a guest read of GICV_CTLR, run after a tlb vector",
              "steps": steps_to_json([with_expect(read, Expect(value, 0xFFFF_FFFF))])}
    meta = {"format": FORMAT, "category": "gic", "spec_hash": spec.digest, "generator": "test", "seed": 0,
            "count": 1, "prelude": steps_to_json(quiesce_steps()),
            "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}}}
    path = tmp_path / "2-gic.jsonl"  # sorted after the tlb file: conform runs it second
    write_vectors(path, meta, [vector])
    return path


def _tlb_then_gic(catalogue: Path, spec: Spec, tmp_path: Path) -> list[Path]:
    """A tlb file of one vector that ends with stage 2 on (HCR.VM, from its prelude), and the gic
    file above, which conform puts after it in the same image."""
    contents = read_vectors(catalogue)
    stale = next(v for v in contents.vectors if v["id"] == "tlb-s-remap-none")
    first = tmp_path / "1-tlb.jsonl"
    write_vectors(first, {**contents.meta, "count": 1}, [stale])
    return [first, _gic_vector_after_stage2(spec, tmp_path)]


def _run_in_one_image(paths: list[Path], tmp_path: Path, name: str) -> tuple[ConformReport, list[str]]:
    report = conform(paths, emit_elf=tmp_path / name)
    (image,) = report.images
    manifest = json.loads(image.with_suffix(".json").read_text(encoding="utf-8"))
    return report, [case["id"] if isinstance(case, dict) else case for case in manifest["cases"]]


def test_a_vector_after_a_tlb_vector_runs_with_stage_2_off(catalogue: Path, spec: Spec,
                                                            tmp_path: Path) -> None:
    report, order = _run_in_one_image(_tlb_then_gic(catalogue, spec, tmp_path), tmp_path, "images")
    assert order == ["tlb-s-remap-none", "guest-reads-gicv"]
    assert report.exit_code == 0, [f.disagreement for f in report.findings]
    assert report.categories["gic"].agree == report.categories["tlb"].agree == 1


def test_without_the_hcr_reset_the_vector_after_a_tlb_vector_takes_a_stage_2_abort(
    catalogue: Path, spec: Spec, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same image with the harness's reset of HCR removed: the gic vector now runs with the
    tlb vector's stage 2 tables, and its read stops with a Data Abort taken to Hyp mode (HSR.EC
    0x24) -- the disagreement the reset prevents. The harness is changed in this process only
    (conform assembles its images here, from `script_image.harness_source()`)."""
    source = script_image.harness_source()
    assert source.count(HCR_RESET) == 1
    without = source.replace(HCR_RESET, "        begin_case")
    monkeypatch.setattr(script_image, "harness_source", lambda: without)
    report, order = _run_in_one_image(_tlb_then_gic(catalogue, spec, tmp_path), tmp_path, "no-reset")
    assert order == ["tlb-s-remap-none", "guest-reads-gicv"]
    assert report.categories["tlb"].agree == 1
    (finding,) = report.findings
    assert finding.disagreement.vector_id == "guest-reads-gicv" and finding.disagreement.field == "outcome"
    # EC 0x24, ISV, a word load into r2, DFSC 0b000101: a translation fault at level 1
    assert "EC=0x24 at step 0" in finding.disagreement.observed, finding.disagreement
    assert "HSR=0x93820005" in finding.disagreement.observed, finding.disagreement
