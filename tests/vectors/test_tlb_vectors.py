"""TLB vectors (`hypspec vectors tlb`): schema, determinism, coverage, the allowed runs of the
catalogue against the architecture, and that the runs come from the spec (a broken chapter gives
other runs).

The worked examples derive each allowed run by hand from ARM DDI 0406C.d §B3.9 and §B4.2.2: a
translation may stay cached until a maintenance operation that covers it (so after a change
without one, the old frame or the new); TLBIALL in Hyp mode invalidates the entries of the VMID
in VTTBR only, TLBIALLNSNH those of every VMID; entries are tagged with the VMID they were filled
under; a walk that faults is never cached.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from hypspec.api import SPEC_DIR, Spec
from hypspec.categories.script.steps import (
    RAM_WINDOWS,
    ScriptError,
    check_steps,
    steps_from_json,
    steps_to_json,
)
from hypspec.categories.tlb import generate as tlb
from hypspec.conformance import layout
from hypspec.vectors.store import VectorFileError, read_vectors, write_vectors
from tests.helpers.generated import generated_twice

SEED, RANDOM = 5, 30
OLD, NEW = tlb.marker(0), tlb.marker(6)
#: HSR of the guest's `ldr r2, [r1]` / `str r2, [r1]` taking a stage 2 Data Abort: EC 0x24, IL,
#: ISV, SAS word, SRT 2, WnR, and DFSC (ARM DDI 0406C.d §B3.13.6).
DABT = 0x24 << 26 | 1 << 25 | 1 << 24 | 0b10 << 22 | 2 << 16
TRANSLATION_L3, TRANSLATION_L2, PERMISSION_L3 = 0b000111, 0b000110, 0b001111


def tlb_vector_files() -> tuple[Path, Path]:
    return generated_twice("tlb", SEED, RANDOM)


@pytest.fixture(scope="module")
def vector_file() -> Path:
    return tlb_vector_files()[0]


def runs(vector: dict[str, Any]) -> set[tuple[tuple[int, ...], tuple[int, int] | None]]:
    """The allowed runs: the reads, and (step, HSR) where a guest access stops the run."""
    found = set()
    for outcome in vector["outcomes"]:
        stop = outcome["stop"]
        found.add((tuple(int(v, 16) for v in outcome["reads"]),
                   None if stop is None else (stop["step"], int(stop["hsr"], 16))))
    return found


def test_the_file_validates_and_stores_the_prelude_once(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    meta = read_vectors(vector_file).meta
    assert meta["category"] == "tlb" and meta["seed"] == SEED
    assert len(vectors) == len(tlb.scenarios()) + RANDOM == meta["count"]
    assert meta["prelude"] == steps_to_json(tlb.prelude())
    assert tlb.prelude()[-1] == tlb.maintenance("TLBIALLNSNH", "hyp")  # no entry survives it
    assert all(s["expect"] is None for v in vectors for s in v["steps"])


def test_same_seed_gives_byte_identical_files() -> None:
    first, second = tlb_vector_files()
    assert first.read_bytes() == second.read_bytes()


def test_every_runnable_path_of_the_chapter_is_hit(vector_file: Path) -> None:
    coverage = read_vectors(vector_file).meta["coverage"]
    assert coverage["paths_hit"] == coverage["feasible_paths"] >= 15
    assert set(coverage["by_function"]) == tlb.COVERED
    # a guest access with stage 2 off is a path the spec has and the harness cannot run
    assert {entry["rules"][0] for entry in coverage["not_runnable"]} == {"stage 2 on"}


CHANGED = {(OLD, OLD), (OLD, NEW)}


@pytest.mark.parametrize(("name", "allowed"), [
    ("remap-none", CHANGED),
    ("remap-tlbiall-hyp", {(OLD, NEW)}),
    ("remap-tlbiallnsnh-hyp", {(OLD, NEW)}),
    ("remap-tlbiallis-svc", {(OLD, NEW)}),
    ("remap-tlbiall-svc-fb", {(OLD, NEW)}),
    ("remap-tlbiallh-hyp", CHANGED),  # Hyp mode's own entries only
    ("other-vmid-tlbiall-hyp", CHANGED),  # VMID 2's entries, not VMID 1's
    ("other-vmid-tlbiallnsnh-hyp", {(OLD, NEW)}),  # every VMID's
    ("isolation", {(OLD, tlb.marker(4), OLD)}),  # VMID 2 never uses VMID 1's entry
    ("isolation-shared-tables", {(OLD, NEW, OLD), (OLD, NEW, NEW)}),
    ("same-vmid-new-tables-none", {(OLD, OLD), (OLD, tlb.marker(4))}),  # tagged by VMID, not BADDR
    ("refill-after-tlbiall", {(OLD, NEW, NEW), (OLD, NEW, tlb.marker(7))}),
])
def test_allowed_reads_of_the_catalogue(by_id: dict[str, dict[str, Any]], name: str, allowed: set) -> None:
    assert runs(by_id[f"tlb-s-{name}"]) == {(reads, None) for reads in allowed}


def test_an_unmapped_page_may_still_be_read_until_invalidated(by_id: dict[str, dict[str, Any]]) -> None:
    level3, level2 = (2, DABT | TRANSLATION_L3), (2, DABT | TRANSLATION_L2)
    assert runs(by_id["tlb-s-unmap-none"]) == {((OLD, OLD), None), ((OLD,), level3)}
    assert runs(by_id["tlb-s-unmap-level2-none"]) == {((OLD, OLD), None), ((OLD,), level2)}
    assert runs(by_id["tlb-s-unmap-tlbiall"]) == {((OLD,), (3, DABT | TRANSLATION_L3))}


def test_a_cached_permission_may_let_a_write_through_until_invalidated(
    by_id: dict[str, dict[str, Any]]
) -> None:
    written, denied = tlb.WRITTEN | 0, DABT | 1 << 6 | PERMISSION_L3  # WnR set
    assert runs(by_id["tlb-s-readonly-none"]) == {((OLD, written), None), ((OLD,), (2, denied))}
    assert runs(by_id["tlb-s-readonly-tlbiall"]) == {((OLD,), (3, denied))}


def test_outcomes_and_paths_are_what_the_explorer_says(spec: Spec, vectors: list[dict[str, Any]]) -> None:
    explorer = tlb.Explorer(spec, SEED)
    for vector in vectors[::7]:
        record, _ = tlb.make_vector(explorer, vector["id"], vector["kind"], steps_from_json(vector["steps"]),
                                    [], vector["description"])
        assert record["outcomes"] == vector["outcomes"] and record["paths"] == vector["paths"]


def _mutant(tmp_path: Path, old: str, new: str) -> Spec:
    root = tmp_path / "spec"
    shutil.copytree(SPEC_DIR, root)
    chapter = root / "14-tlb.md"
    text = chapter.read_text(encoding="utf-8")
    assert text.count(old) == 1
    chapter.write_text(text.replace(old, new), encoding="utf-8")
    return Spec.load(root)


def test_a_chapter_whose_invalidation_does_nothing_allows_the_stale_frame(spec: Spec, tmp_path: Path) -> None:
    scenario = {s.name: s for s in tlb.scenarios()}["remap-tlbiall-hyp"]
    invalidation = "    clear TLB_S2[k] where k<35:28> == vmid && (broadcast || k<38:36> == pe);\n"
    broken = _mutant(tmp_path, invalidation, "    clear TLB_S2[k] where FALSE;\n")
    before = tlb.Explorer(spec).outcomes(scenario.steps)
    after = tlb.Explorer(broken).outcomes(scenario.steps)
    assert [o.reads for o in before] == [(OLD, NEW)]
    assert [o.reads for o in after] == [(OLD, OLD), (OLD, NEW)]


def test_a_chapter_that_ignores_the_vmid_lets_one_vm_use_anothers_entry(spec: Spec, tmp_path: Path) -> None:
    scenario = {s.name: s for s in tlb.scenarios()}["isolation"]
    broken = _mutant(tmp_path, "    return pe : vmid : ipa<39:12>;", "    return pe : Zeros(8) : ipa<39:12>;")
    assert len(tlb.Explorer(spec).outcomes(scenario.steps)) == 1
    assert (OLD, OLD, OLD) in {o.reads for o in tlb.Explorer(broken).outcomes(scenario.steps)}


def test_the_ram_windows_are_the_harness_regions() -> None:
    assert RAM_WINDOWS["hyp"]["TABLE"] == (layout.TABLE_BASE, layout.TABLE_END - layout.TABLE_BASE)
    assert RAM_WINDOWS["hyp"]["DATA"] == (layout.DATA_BASE, layout.DATA_END - layout.DATA_BASE)
    assert tlb.level3(tlb.SLOTS - 1) < layout.TABLE_END and tlb.frame(tlb.FRAMES - 1) < layout.DATA_END


@pytest.mark.parametrize(("step", "message"), [
    (tlb.mmio_read(tlb.frame(0), "svc"), "not a word in a GIC frame .* or in the RAM a svc step may use"),
    (tlb.mmio_write(layout.HARNESS_BASE, 0), "or in the RAM a hyp step may use"),
])
def test_a_step_outside_the_windows_is_refused(spec: Spec, step: Any, message: str) -> None:
    with pytest.raises(ScriptError, match=message):
        check_steps(spec, [step])


@pytest.mark.parametrize("change", ["drop outcomes", "outcomes on a gic vector"])
def test_the_schema_ties_outcomes_to_the_tlb_category(vectors: list[dict[str, Any]], tmp_path: Path,
                                                      change: str) -> None:
    vector = dict(vectors[0])
    if change == "drop outcomes":
        del vector["outcomes"]
    else:
        vector["category"] = "gic"
    meta = {"format": "hypspec-vectors/1", "category": vector["category"], "spec_hash": "0" * 64,
            "generator": "test", "seed": 0, "count": 1, "prelude": steps_to_json(tlb.prelude()),
            "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}}}
    path = tmp_path / "tlb.jsonl"
    with pytest.raises(VectorFileError, match="line 2"):
        write_vectors(path, meta, [vector])
    assert not path.exists()
