"""GIC vectors: schema, determinism, coverage, the scenarios, and agreement with `run_script`.

The file is generated twice, in two fresh processes at once (`gic_vector_files`), as a user runs
`hypspec vectors gic`.

Every expected value in the worked examples below is derived by hand from ARM IHI 0048B.b: the
GICH_LRn layout of §5.3.7 (HW[31], Grp1[30], State[29:28] with 00 invalid, 01 pending, 10
active, 11 both; Priority[27:23], the top five bits of the priority; PhysicalID[19:10] with
HW = 1, else EOI[19] and CPUID[12:10]; VirtualID[9:0]), GICH_HCR (§5.3.2: En[0], UIE[1],
LRENPIE[2], NPIE[3], VGrp0EIE[4], VGrp0DIE[5], VGrp1EIE[6], VGrp1DIE[7], EOICount[31:27]),
GICH_VMCR (§5.3.4: VMPriMask[31:27], VMBP[23:21], VMABP[20:18], VEM[9], VMCBPR[4], VMFIQEn[3],
VMAckCtl[2], VMGrp1En[1], VMGrp0En[0]; reset 0x004C0000, the binary points 2 and 3 that five
preemption bits allow), GICH_MISR (§5.3.5: EOI[0], U[1], LRENP[2], NP[3], VGrp0E[4], VGrp0D[5],
VGrp1E[6], VGrp1D[7]), GICH_EISR0 (an invalid software entry with EOI set), GICH_ELRSR0 (an
invalid entry without a pending EOI), GICH_APR (bit n for group priority 8n), GICV_IAR (ID[9:0],
source CPUID[12:10] of an SGI; 1022 for a Group 1 interrupt while AckCtl is 0; 1023 spurious);
and of the distributor (§4.3: bit n of ISPENDR/ISACTIVER word k for INTID 32k + n, GICD_SGIR
TargetListFilter[25:24] CPUTargetList[23:16] SGIINTID[3:0], GICD_SPENDSGIR one byte per SGI with
bit n for source CPU n) and the CPU interface (§4.4: GICC_RPR 0xFF when idle, GICC_IIDR). The
maintenance interrupt is PPI 25 (bit 25 of GICD_ISPENDR0), a level: pending while GICH_HCR.En
and some GICH_MISR bit are set.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import z3

from hypspec.api import Spec
from hypspec.categories.gic import flags as gic_flags
from hypspec.categories.gic import generate as gic
from hypspec.categories.script.steps import quiesce_steps, run_script, steps_from_json, steps_to_json
from hypspec.conformance.compare import Disagreement
from hypspec.conformance.deviations import load_deviations, match_deviation
from hypspec.symbolic.evaluator import Invocation
from hypspec.vectors.store import VectorFileError, read_vectors
from tests.helpers.generated import generated_twice

SEED, RANDOM = 5, 150
RULES = {"reserved bits", "special virtual IDs", "unique virtual IDs", "hardware interrupts", "guest writes"}


def gic_vector_files() -> tuple[Path, Path]:
    """The same `hypspec vectors gic` run twice, in two fresh processes side by side."""
    return generated_twice("gic", SEED, RANDOM)


@pytest.fixture(scope="module")
def vector_file() -> Path:
    return gic_vector_files()[0]


def own_steps(vector: dict[str, Any]) -> list[dict[str, Any]]:
    """The vector's own steps (they run after the file's prelude, the quiesce steps)."""
    return vector["steps"]


def reads(vector: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(mode, address, expected value) of every read after the quiesce steps; the mask must be
    the whole word (no GIC register this category reads is UNKNOWN)."""
    found = []
    for step in own_steps(vector):
        if step["op"] == "read":
            assert int(step["expect"]["mask"], 16) == 0xFFFF_FFFF, step
            found.append((step["el"], int(step["address"], 16), int(step["expect"]["value"], 16)))
    return found


# ---- the file -------------------------------------------------------------------------------

def test_the_file_validates_and_counts_its_kinds(vector_file: Path, vectors: list[dict[str, Any]]) -> None:
    meta = read_vectors(vector_file).meta
    assert meta["category"] == "gic" and meta["seed"] == SEED and meta["count"] == len(vectors)
    kinds = [v["kind"] for v in vectors]
    assert kinds.count("random") == RANDOM
    assert kinds.count("witness") >= meta["coverage"]["feasible_paths"]  # one per path and operation
    assert all(v["category"] == "gic" for v in vectors)


def test_same_seed_gives_byte_identical_files() -> None:
    first, second = gic_vector_files()
    assert first.read_bytes() == second.read_bytes()


def test_the_prelude_is_the_quiesce_steps_stored_once(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    prefix = steps_to_json(quiesce_steps())
    assert read_vectors(vector_file).meta["prelude"] == prefix
    for vector in vectors:
        assert vector["steps"][: len(prefix)] != prefix, vector["id"]


def test_every_feasible_path_is_hit(vector_file: Path) -> None:
    coverage = read_vectors(vector_file).meta["coverage"]
    assert coverage["feasible_paths"] > 50
    assert coverage["paths_hit"] == coverage["feasible_paths"]
    assert all(hit == feasible for hit, feasible in coverage["by_function"].values())
    for name in ("GICV.Read", "GICV.Write", "GICV.Acknowledge", "GICV.EndOfInterrupt", "GICV.Deactivate",
                 "GICV.DeactivateInterrupt", "GICV.HighestPendingID", "GICV.RunningPriority"):
        assert name in coverage["by_function"], name


def test_paths_outside_the_rules_are_listed_with_them(vector_file: Path) -> None:
    """A HW list register naming an SGI or a special ID is UNPREDICTABLE (IHI 0048B §5.3.7), so
    the path of `GICV.DeactivatePhysical` that ignores it is not runnable, and is listed."""
    coverage = read_vectors(vector_file).meta["coverage"]
    listed = {entry["path"].split("#")[0]: entry["rules"] for entry in coverage["not_runnable"]}
    assert listed["GICV.DeactivatePhysical"] == ["hardware interrupts"]
    assert all(set(rules) <= RULES for rules in listed.values())


def test_every_guest_operation_has_witnesses_from_svc_and_usr(vectors: list[dict[str, Any]]) -> None:
    witnesses = [v for v in vectors if v["kind"] == "witness"]
    flags = {flag for v in witnesses for flag in v["flags"]}
    for operation in gic.GUEST_OPERATIONS:
        assert f"GICV_{operation.name.upper().replace('-', '_')}" in flags
    modes = set()
    for vector in witnesses:
        steps = own_steps(vector)
        setup, access, back = steps[:7], steps[7], steps[8:]
        assert [int(s["address"], 16) for s in setup] == [gic.gich(n) for n in gic.SETUP]
        assert all(s["el"] == "hyp" and s["op"] == "write" for s in setup)
        assert access["el"] in ("svc", "usr")
        assert gic.GICV_BASE <= int(access["address"], 16) < gic.GICV_BASE + 0x2000
        modes.add(access["el"])
        assert [int(s["address"], 16) for s in back] == [*(gic.gich(n) for n in gic.READBACK),
                                                         gic.gicd("ISPENDR0")]
    assert modes == {"svc", "usr"}


def test_witnesses_keep_the_rules(vectors: list[dict[str, Any]]) -> None:
    """What Hyp writes in witness and random vectors: no reserved bit, no valid list register with
    a special ID, no ID in two valid list registers, HW only for INTIDs 16 to 1019."""
    for vector in vectors:
        if vector["kind"] not in ("witness", "random"):
            continue
        written = {int(s["address"], 16): int(s["value"], 16) for s in own_steps(vector)
                   if s["el"] == "hyp" and s["op"] == "write" and int(s["address"], 16) >> 16 == 0x0803}
        if not written:
            continue
        assert written[gic.gich("HCR")] & gic.RESERVED["HCR"] == 0, vector["id"]
        assert written[gic.gich("VMCR")] & gic.RESERVED["VMCR"] == 0, vector["id"]
        seen = set()
        for name in gic.LRS:
            value = written[gic.gich(name)]
            hw, state, vid, cpuid = value >> 31, value >> 28 & 3, value & 0x3FF, value >> 10 & 7
            assert value & gic.LR_RESERVED == 0, vector["id"]
            if hw:
                assert 16 <= value >> 10 & 0x3FF < 1020, vector["id"]
            else:
                assert value & gic.LR_SOFTWARE_RESERVED == 0, vector["id"]
            if state:
                assert vid < 1020 and vid not in seen, vector["id"]
                seen.add(vid)
            if not hw and vid >= 16:
                assert cpuid == 0, vector["id"]


# ---- the semantics --------------------------------------------------------------------------

def test_expectations_are_what_run_script_says(spec: Spec, vectors: list[dict[str, Any]]) -> None:
    """Every witness and scenario vector, and a sample of the random ones, replayed by the script
    oracle: each read's expectation holds under its mask."""
    randoms = [v for v in vectors if v["kind"] == "random"]
    sample = [v for v in vectors if v["kind"] != "random"] + randoms[::10]
    for vector in sample:
        steps = steps_from_json(vector["steps"])
        values = run_script(spec, steps, gic.COUNT, SEED)
        for index, (step, value) in enumerate(zip(steps, values, strict=True)):
            if step.expect is not None:
                assert (value ^ step.expect.value) & step.expect.mask == 0, (vector["id"], index)


def test_recorded_paths_are_paths_of_covered_functions(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    coverage = read_vectors(vector_file).meta["coverage"]
    functions = set(coverage["by_function"])
    for vector in vectors:
        assert all(key.split("#")[0] in functions for key in vector["paths"]), vector["id"]


def test_loop_iterations_merge_into_one_path(spec: Spec) -> None:
    """`GICV.RunningPriority` loops over the 32 bits of GICH_APR: as sequences of arms it has 2^32
    paths; merged, three (no bit set, every bit set, some of each), and a traced run agrees."""
    call = spec.symbolic("GICV.RunningPriority")
    invocations: list[Invocation] = call.evaluation.invocations
    found = gic.merged_feasible_paths(invocations, {"GICV.RunningPriority"}, [])
    assert len(found) == 3
    machine = gic.Machine(spec, 0)
    seen = set()
    for apr in (0, 0xFFFF_FFFF, 0x10):
        run = machine.run([gic.hyp_write(gic.gich("APR"), apr), gic.guest_read(gic.gicv("RPR"))], traced=True)
        seen |= {p for p in run.paths if p.function == "GICV.RunningPriority"}
    assert seen == set(found)


# ---- scenarios ------------------------------------------------------------------------------

def test_every_scenario_is_present(by_id: dict[str, dict[str, Any]]) -> None:
    names = [s.name for s in gic.scenarios()]
    assert len(names) == len(set(names))
    required = {"maint-eoi", "maint-underflow", "maint-lrenp", "maint-lrenp-dir", "maint-no-pending",
                "maint-vgrp0e", "maint-vgrp0d", "maint-vgrp1e", "maint-vgrp1d", "maint-disabled",
                "ack-eoi-roundtrip", "hw-eoi", "hw-eoi-split", "eoimode-split", "sgi-target-list",
                "sgi-target-list-empty", "sgi-filter-others", "sgi-filter-self", "spi-priorities",
                "ppi-ack-eoi", "priority-mask", "binary-point-preempts", "binary-point-groups"}
    assert required <= set(names)
    for name in names:
        vector = by_id[f"gic-s-{name}"]
        assert vector["kind"] == name and vector["description"]


GICH_BASE, GICV_BASE = gic.GICH_BASE, gic.GICV_BASE
LR = [gic.gich(n) for n in gic.LRS]
HCR, VMCR, MISR, EISR0, ELRSR0, APR = (gic.gich(n) for n in ("HCR", "VMCR", "MISR", "EISR0", "ELRSR0", "APR"))
ISPENDR0 = gic.gicd("ISPENDR0")
ISPENDR1, ISACTIVER0, ISACTIVER1 = gic.gicd("ISPENDR0", 1), gic.gicd("ISACTIVER0"), gic.gicd("ISACTIVER0", 1)
IAR, RPR, HPPIR, AIAR, AHPPIR = (gic.gicv(n) for n in ("IAR", "RPR", "HPPIR", "AIAR", "AHPPIR"))
CIAR, CRPR, CHPPIR = (gic.gicc(n) for n in ("IAR", "RPR", "HPPIR"))
PPI25 = 1 << gic.MAINTENANCE_INTID
VMCR_G0 = 0xF84C_0001  # VMPriMask 0x1F (mask 0xF8), VMBP 2, VMABP 3, VMGrp0En


def back(lrs: tuple[int, int, int, int], hcr: int, vmcr: int, misr: int, eisr: int, elrsr: int, apr: int,
         pending: int) -> list[tuple[int, int]]:
    """The readback: LR0-3, HCR, VMCR, MISR, EISR0, ELRSR0, APR, GICD_ISPENDR0."""
    return [*zip(LR, lrs, strict=True), (HCR, hcr), (VMCR, vmcr), (MISR, misr), (EISR0, eisr),
            (ELRSR0, elrsr), (APR, apr), (ISPENDR0, pending)]


# scenario -> every read after the quiesce steps, in order: (address, value), derived by hand.
HAND: dict[str, list[tuple[int, int]]] = {
    # LR0 = pending vINTID 40, priority 0x20, EOI: 0x10000000 | 4 << 23 | 1 << 19 | 0x28 = 0x12080028.
    # Acknowledged and ended, it is invalid (0x02080028) with EOI: EISR0 bit 0, not empty (ELRSR0
    # 0xE), MISR.EOI, so PPI 25 pends.
    "maint-eoi": [(MISR, 0), (ISPENDR0, 0), (IAR, 40),
                  *back((0x0208_0028, 0, 0, 0), 1, VMCR_G0, 0x1, 0x1, 0xE, 0, PPI25)],
    # UIE: no valid entry (U), one (still U), two (not U); ack + EOI of vINTID 33 (LR0 = pending,
    # priority 0x40: 0x14000021) leaves one valid entry (LR1, vINTID 34 at 0x50: 0x15000022).
    "maint-underflow": [(MISR, 0x2), (ISPENDR0, PPI25), (MISR, 0x2), (ISPENDR0, PPI25), (MISR, 0),
                        (ISPENDR0, 0), (IAR, 33),
                        *back((0x0400_0021, 0x1500_0022, 0, 0), 0x3, VMCR_G0, 0x2, 0, 0xD, 0, PPI25)],
    # EOI of vINTID 50 (in no list register) with GICH_APR = 0x10 (priority 0x20 active): the
    # priority drops and EOICount becomes 1 (HCR 1 << 27 | LRENPIE | En).
    "maint-lrenp": [(MISR, 0), (ISPENDR0, 0),
                    *back((0, 0, 0, 0), 0x0800_0005, VMCR_G0, 0x4, 0, 0xF, 0, PPI25)],
    # With VEM (VMCR bit 9) the EOIR only drops the priority; the DIR counts.
    "maint-lrenp-dir": [(MISR, 0), (ISPENDR0, 0),
                        *back((0, 0, 0, 0), 0x0800_0005, VMCR_G0 | 1 << 9, 0x4, 0, 0xF, 0, PPI25)],
    # LR0 active vINTID 33 at 0x40 (0x24000021): NP. LR1 pending vINTID 34 at 0x30 (0x13000022):
    # not NP. GICH_APR is 0, so 34 preempts: acknowledged, active (0x23000022), APR bit 6; NP again.
    "maint-no-pending": [(MISR, 0x8), (ISPENDR0, PPI25), (MISR, 0), (ISPENDR0, 0), (IAR, 34),
                         *back((0x2400_0021, 0x2300_0022, 0, 0), 0x9, VMCR_G0, 0x8, 0, 0xC, 0x40, PPI25)],
    "maint-vgrp0e": [(MISR, 0x10), (ISPENDR0, PPI25),
                     *back((0, 0, 0, 0), 0x11, 0xF84C_0000, 0, 0, 0xF, 0, 0)],
    "maint-vgrp0d": [(MISR, 0x20), (ISPENDR0, PPI25),
                     *back((0, 0, 0, 0), 0x21, 0xF84C_0001, 0, 0, 0xF, 0, 0)],
    "maint-vgrp1e": [(MISR, 0x40), (ISPENDR0, PPI25),
                     *back((0, 0, 0, 0), 0x41, 0xF84C_0000, 0, 0, 0xF, 0, 0)],
    "maint-vgrp1d": [(MISR, 0x80), (ISPENDR0, PPI25),
                     *back((0, 0, 0, 0), 0x81, 0xF84C_0002, 0, 0, 0xF, 0, 0)],
    # HCR = 0xFE (every enable, En clear), no valid entry, both groups disabled: U | NP | VGrp0D |
    # VGrp1D = 0xAA, but no maintenance interrupt until En.
    "maint-disabled": [(MISR, 0xAA), (ISPENDR0, 0),
                       *back((0, 0, 0, 0), 0xFF, 0xF84C_0000, 0xAA, 0, 0xF, 0, PPI25)],
    # The QEMU probe of conformance-anchors §4.3: LR0 = pending SGI 5 from CPU 1 at 0x20
    # (0x12000405), LR1 = pending vINTID 40 at 0x30 with EOI (0x13080028), HCR = En | UIE. IAR
    # 0x405, LR0 active 0x22000405, APR 0x10, RPR 0x20, HPPIR 40; after EOIR LR0 0x02000405;
    # then 40 (from User mode) and the spurious ID; EISR0 0x2, ELRSR0 0xD, MISR EOI | U.
    "ack-eoi-roundtrip": [(IAR, 0x405), (LR[0], 0x2200_0405), (APR, 0x10), (RPR, 0x20), (HPPIR, 40),
                          (LR[0], 0x0200_0405), (IAR, 40), (IAR, 1023),
                          *back((0x0200_0405, 0x0308_0028, 0, 0), 0x3, VMCR_G0, 0x3, 0x2, 0xD, 0, PPI25)],
    # Group 1 vINTID 41 at 0x28 (0x52800029): 1022 through HPPIR and IAR (AckCtl 0), 41 through the
    # aliases; group priority with VMABP 3 is 0x28, APR bit 5.
    "ack-eoi-group1": [(HPPIR, 1022), (AHPPIR, 41), (IAR, 1022), (AIAR, 41), (RPR, 0x28),
                       *back((0x4280_0029, 0, 0, 0), 1, 0xF84C_0003, 0, 0, 0xF, 0, 0)],
    # vINTID 60 at 0x80 (0x1800003C) taken; 61 at 0x40 (0x1400003D) preempts it; 62 at 0x88
    # (0x1880003E) cannot preempt 0x40; APR bits 8 and 16; EOIs drop 0x40 then 0x80.
    "ack-eoi-preemption": [(IAR, 60), (IAR, 61), (IAR, 1023), (APR, 0x10100), (RPR, 0x80), (IAR, 62),
                           *back((0x0800_003C, 0x0400_003D, 0x2880_003E, 0), 1, VMCR_G0, 0, 0, 0xB,
                                 0x20000, 0)],
    # SPI 40 at 0xA0: Hyp acknowledges it (40), it is active (ISACTIVER1 bit 8) and no longer
    # pending; with EOImode the EOIR only drops the priority (RPR 0xFF). LR0 = HW, pending,
    # priority 0xA0, physical 40, virtual 70: 0x9A00A046. The guest's EOI deactivates SPI 40.
    "hw-eoi": [(CIAR, 40), (ISPENDR1, 0), (ISACTIVER1, 0x100), (CRPR, 0xFF), (ISPENDR1, 0),
               (ISACTIVER1, 0x100), (IAR, 70), (ISPENDR1, 0), (ISACTIVER1, 0x100), (ISPENDR1, 0),
               (ISACTIVER1, 0), *back((0x8A00_A046, 0, 0, 0), 1, VMCR_G0, 0, 0, 0xF, 0, 0)],
    "hw-eoi-split": [(CIAR, 40), (ISPENDR1, 0), (ISACTIVER1, 0x100), (CRPR, 0xFF), (ISPENDR1, 0),
                     (ISACTIVER1, 0x100), (IAR, 70), (ISPENDR1, 0), (ISACTIVER1, 0x100),
                     (LR[0], 0xAA00_A046), (ISPENDR1, 0), (ISACTIVER1, 0),
                     *back((0x8A00_A046, 0, 0, 0), 1, VMCR_G0 | 1 << 9, 0, 0, 0xF, 0, 0)],
    # vINTID 45 at 0x40 (0x1400002D) with VEM: EOIR clears APR bit 8, LR0 stays active.
    "eoimode-split": [(IAR, 45), (APR, 0x100), (APR, 0), (RPR, 0xFF), (LR[0], 0x2400_002D),
                      *back((0x0400_002D, 0, 0, 0), 1, VMCR_G0 | 1 << 9, 0, 0, 0xF, 0, 0)],
    # PMR 0xA0 -> VMPriMask 0x14, BPR 5, ABPR 6, CTLR 0x21F: VMCR 0xA0B8021F. VMCR written 0
    # reads 0x004C0000: the binary points clamp to 2 and 3.
    "vmcr-guest-view": [(VMCR, 0xA0B8_021F), (gic.gicv("CTLR"), 0x21F), (gic.gicv("PMR"), 0xA0),
                        (gic.gicv("BPR"), 5), (gic.gicv("ABPR"), 6), (VMCR, 0x004C_0000),
                        (gic.gicv("BPR"), 2), (gic.gicv("ABPR"), 3),
                        *back((0, 0, 0, 0), 1, 0x004C_0000, 0, 0, 0xF, 0, 0)],
    # SGI 3 at 0x80 from CPU 0: ISPENDR0 bit 3, SPENDSGIR0 byte 3 bit 0, HPPIR/IAR 3 (CPUID 0).
    "sgi-target-list": [(ISPENDR0, 0x8), (gic.gicd("SPENDSGIR0"), 0x0100_0000), (CHPPIR, 3), (CIAR, 3),
                        (ISPENDR0, 0), (ISACTIVER0, 0x8), (CRPR, 0x80), (ISPENDR0, 0), (ISACTIVER0, 0),
                        (CRPR, 0xFF), (CIAR, 1023)],
    "sgi-target-list-empty": [(ISPENDR0, 0), (gic.gicd("SPENDSGIR0"), 0), (CHPPIR, 1023), (CIAR, 1023)],
    "sgi-filter-others": [(ISPENDR0, 0), (gic.gicd("SPENDSGIR0"), 0), (CHPPIR, 1023), (CIAR, 1023)],
    "sgi-filter-self": [(ISPENDR0, 0x8), (gic.gicd("SPENDSGIR0"), 0x0100_0000), (CHPPIR, 3), (CIAR, 3),
                        (ISPENDR0, 0), (ISACTIVER0, 0x8), (CRPR, 0x80), (ISPENDR0, 0), (ISACTIVER0, 0),
                        (CRPR, 0xFF), (CIAR, 1023)],
    # SPIs 33 at 0x80 and 34 at 0x40 (ISPENDR1 bits 1 and 2): 34 first; 33 cannot preempt it.
    "spi-priorities": [(ISPENDR1, 0x6), (ISACTIVER1, 0), (CHPPIR, 34), (CIAR, 34), (CRPR, 0x40),
                       (CHPPIR, 33), (CIAR, 1023), (ISPENDR1, 0x2), (ISACTIVER1, 0x4), (CRPR, 0xFF),
                       (CIAR, 33), (CRPR, 0x80), (ISPENDR1, 0), (ISACTIVER1, 0), (CIAR, 1023)],
    # PPI 28 at 0x60: ISPENDR0 bit 28, acknowledged (28), active, ended.
    "ppi-ack-eoi": [(ISPENDR0, 1 << 28), (ISACTIVER0, 0), (CIAR, 28), (ISPENDR0, 0), (ISACTIVER0, 1 << 28),
                    (ISPENDR0, 0), (ISACTIVER0, 0)],
    # SPI 35 at 0x80 is masked by PMR 0x80 (not higher), signalled with 0x90.
    "priority-mask": [(CHPPIR, 1023), (CIAR, 1023), (gic.gicc("PMR"), 0x90), (CHPPIR, 35), (CIAR, 35),
                      (ISPENDR1, 0), (ISACTIVER1, 0)],
    # BPR 2: group priority bits [7:3]; 0x40 preempts 0x50.
    "binary-point-preempts": [(CIAR, 36), (CRPR, 0x50), (CIAR, 37), (CRPR, 0x40), (CRPR, 0xFF),
                              (gic.gicc("BPR"), 2)],
    # BPR 4: bits [7:5]; 0x50 and 0x40 are both group priority 0x40. GICC_BPR written 0 reads 0
    # (8 priority bits: no minimum above 0); GICC_ABPR keeps the 3 the quiesce steps wrote.
    "binary-point-groups": [(CIAR, 36), (CRPR, 0x40), (CIAR, 1023), (CHPPIR, 37), (CIAR, 37),
                            (gic.gicc("BPR"), 0), (gic.gicc("ABPR"), 3)],
    # GICD_TYPER ITLinesNumber 8 (288 interrupts), CPUNumber 0; GICC_IIDR and GICV_IIDR 0x0002043B
    # (QEMU); GICH_VTR 0x90000003 (five priority and preemption bits, four list registers).
    "identification": [(gic.gicd("TYPER"), 0x8), (gic.gicd("IIDR"), None), (gic.gicc("IIDR"), 0x0002_043B),
                       (gic.gich("VTR"), 0x9000_0003), (gic.gicv("IIDR"), 0x0002_043B)],  # type: ignore[list-item]
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_scenario_worked_examples(by_id: dict[str, dict[str, Any]], name: str) -> None:
    got = [(address, value) for _, address, value in reads(by_id[f"gic-s-{name}"])]
    expected = HAND[name]
    assert [a for a, _ in got] == [a for a, _ in expected]
    for (address, value), (_, want) in zip(got, expected, strict=True):
        if want is not None:
            assert value == want, f"{name}: read of {address:#x} is {value:#x}, by hand {want:#x}"


def test_guest_steps_come_from_svc_and_usr(by_id: dict[str, dict[str, Any]]) -> None:
    roundtrip = own_steps(by_id["gic-s-ack-eoi-roundtrip"])
    assert {s["el"] for s in roundtrip if int(s["address"], 16) >= GICV_BASE} == {"svc", "usr"}
    assert {s["el"] for s in roundtrip if int(s["address"], 16) < GICV_BASE} == {"hyp"}


def test_random_scripts_mix_virtual_and_physical(vectors: list[dict[str, Any]]) -> None:
    randoms = [v for v in vectors if v["kind"] == "random"]
    flags = [v["flags"][0] for v in randoms]
    assert 0.1 < flags.count("RANDOM_PHYSICAL") / len(flags) < 0.5
    assert {"svc", "usr"} <= {s["el"] for v in randoms for s in own_steps(v)}


def test_random_scripts_are_a_function_of_the_seed() -> None:
    def scripts(seed: int) -> list[tuple[list[Any], str]]:
        rng = random.Random(seed)
        return [gic.random_steps(rng) for _ in range(20)]

    assert scripts(9) == scripts(9) != scripts(10)


# ---- bad input ------------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hypspec.cli", "vectors", *args], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("gic", "--seed", "seven", "--out", "x"), "argument --seed: invalid int value: 'seven'"),
        (("gic", "--random", "-1", "--out", "x"), "argument --random: must be at least 0, not -1"),
        (("gic", "--out", "x", "--lrs", "4"), "unrecognized arguments: --lrs 4"),
        (("gicv", "--out", "x"), "argument category: invalid choice: 'gicv'"),
        (("gic",), "the following arguments are required: --out"),
    ],
)
def test_bad_input_gives_a_clear_error(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    result = _cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_schema_invalid_gic_vector_names_its_line_and_field(vector_file: Path, tmp_path: Path) -> None:
    lines = vector_file.read_text().splitlines()
    record = json.loads(lines[3])
    record["steps"][-1]["el"] = "mon"
    lines[3] = json.dumps(record)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(VectorFileError, match=r"bad\.jsonl:4: field 'steps/\d+/el'"):
        read_vectors(bad)


def test_the_rules_accept_a_clean_setting_and_reject_a_special_id(spec: Spec) -> None:
    """The rules, Z3 terms over what Hyp writes, accept maint-eoi's setting and reject a valid
    list register holding the special ID 1021."""
    machine = gic.Machine(spec, 0)
    found = gic._operation_call(spec, gic.symbolic_globals(spec, machine.base()), gic.GUEST_OPERATIONS[0])
    rules = {r.name: z3.And(r.terms) for r in gic.rules(found)}
    values = {name: 0 for name in gic.SETUP} | {"LR0": gic.lr(40, gic.PENDING, 0x20, eoi=True), "HCR": 1,
                                                "VMCR": VMCR_G0}
    bind = [found.values[n] == v for n, v in values.items()] + [found.guest == 0]
    solver = z3.Solver()
    assert solver.check(*bind, *rules.values()) == z3.sat
    bind[0] = found.values["LR0"] == gic.lr(1021, gic.PENDING, 0x20)
    assert solver.check(*bind, rules["special virtual IDs"]) == z3.unsat


def test_a_witness_whose_writes_give_another_state_is_refused(spec: Spec) -> None:
    """`check_witness_state` compares `run_script` with the model: GICH_VMCR written as 0 reads
    0x004C0000 (the binary points clamp), so a witness claiming 0 is refused."""
    setup = {name: 0 for name in gic.SETUP}
    readback = {name: 0 for name in gic.READBACK} | {"VMCR": 0x004C_0000, "ELRSR0": 0xF}
    path = gic.merged_path("GICV.Read", ())
    witness = gic.Witness(gic.GUEST_OPERATIONS[0], path, setup, 0, {}, readback)
    gic.check_witness_state(spec, witness, SEED)
    witness.readback["VMCR"] = 0
    with pytest.raises(AssertionError, match="produce another state"):
        gic.check_witness_state(spec, witness, SEED)


# ---- flags for the known deviations (hypspec/categories/gic/flags.py) --------------------------
#
# The list register values come from `gic.lr()` and `gic.vmcr()`, whose layouts are those of
# the module docstring; GICH_APR bit n is group priority 8n. Each condition is worked by hand.

FLAG_NAMES = (gic_flags.VGROUP_DISABLED_PENDING, gic_flags.GROUP_PRIORITY_PREEMPTS, gic_flags.HW_VIRTUAL_SGI)


def interface(*lrs: int, control: int, apr: int = 0, hcr: int = gic.HCR_EN) -> gic_flags.VirtualInterface:
    return gic_flags.VirtualInterface(hcr, control, apr, (*lrs, 0, 0, 0, 0)[:4])


def test_a_disabled_group_is_flagged_only_when_the_other_is_enabled() -> None:
    """LR0 Group 1 at 0x10 and LR1 Group 0 at 0x40: a group-blind choice takes LR0 (0x10 < 0x40,
    both below the mask 0xF8)."""
    entries = (gic.lr(40, gic.PENDING, 0x10, group1=True), gic.lr(41, gic.PENDING, 0x40))
    flagged = gic_flags.group_disabled_pending
    assert interface(*entries, control=gic.vmcr(grp0=True)).chosen() == 0
    assert flagged(interface(*entries, control=gic.vmcr(grp0=True)))  # Group 1 off, Group 0 on
    assert not flagged(interface(*entries, control=gic.vmcr(grp0=True, grp1=True)))  # both on
    assert not flagged(interface(*entries, control=gic.vmcr()))  # both off: QEMU reads 1023 too
    assert not flagged(interface(*entries, control=gic.vmcr(grp0=True), hcr=0))  # interface off
    # With the mask at 0x10 neither entry is below it: nothing is chosen, nothing flagged.
    masked = interface(*entries, control=gic.vmcr(grp0=True, pmr=0x10))
    assert masked.chosen() is None and not flagged(masked)
    # An active entry is not a candidate: LR0 active leaves LR1.
    active = interface(gic.lr(40, gic.ACTIVE, 0x10, group1=True), entries[1], control=gic.vmcr(grp1=True))
    assert active.chosen() == 1 and flagged(active)  # LR1 is Group 0, and only Group 1 is on


def test_preemption_is_flagged_where_masking_the_running_priority_matters() -> None:
    """GICH_APR bit 1: running priority 8. An entry at 0x00: the spec compares 0x00 with 8 AND
    mask, QEMU with 8. Group 0 with VMBP 4 keeps bits 7:5 (mask 0xE0): 0 < 0 is false, 0 < 8 is
    true, flagged; with VMBP 2 (mask 0xF8) both are true. Group 1 uses VMABP: 5 keeps bits 7:5."""
    group0 = gic.lr(70, gic.PENDING, 0x00)
    differs = gic_flags.preemption_differs
    assert differs(interface(group0, control=gic.vmcr(grp0=True, bpr=4), apr=1 << 1))
    assert not differs(interface(group0, control=gic.vmcr(grp0=True, bpr=2), apr=1 << 1))
    assert not differs(interface(group0, control=gic.vmcr(grp0=True, bpr=4)))  # idle: both preempt
    assert not differs(interface(group0, control=gic.vmcr(grp1=True, bpr=4), apr=1 << 1))  # group off
    group1 = gic.lr(71, gic.PENDING, 0x00, group1=True)
    assert differs(interface(group1, control=gic.vmcr(grp1=True, abpr=5), apr=1 << 1))
    # CBPR: Group 1 takes VMBP 2 (mask 0xF8): no difference.
    assert not differs(interface(group1, control=gic.vmcr(grp1=True, abpr=5, cbpr=True), apr=1 << 1))
    # An entry at 0x10 against running priority 8: neither comparison lets it preempt.
    later = gic.lr(72, gic.PENDING, 0x10)
    assert not differs(interface(later, control=gic.vmcr(grp0=True, bpr=4), apr=1 << 1))


def test_a_hardware_virtual_sgi_is_flagged_by_its_physical_id_low_bits() -> None:
    """HW entry for virtual ID 3: PhysicalID 0x1E6 has low bits 110 (what QEMU reports as CPUID);
    0x1E0 has 000, and a virtual ID of 32 is no SGI."""
    flagged = gic_flags.hardware_virtual_sgi
    control = gic.vmcr(grp0=True)
    assert flagged(interface(gic.lr(3, gic.PENDING, 0x20, hw=True, pid=0x1E6), control=control))
    assert not flagged(interface(gic.lr(3, gic.PENDING, 0x20, hw=True, pid=0x1E0), control=control))
    assert not flagged(interface(gic.lr(32, gic.PENDING, 0x20, hw=True, pid=0x1E6), control=control))
    assert not flagged(interface(gic.lr(3, gic.PENDING, 0x20, cpuid=6), control=control))  # software


def test_vector_flags_follow_the_state_through_the_script(spec: Spec) -> None:
    """`vector_flags` reads the GICH state the spec holds before each guest GICV_IAR/HPPIR read:
    a condition the guest creates with a GICV_CTLR write is seen, one it removes is not."""
    machine = gic.Machine(spec, SEED)
    entries = (gic.lr(40, gic.PENDING, 0x10, group1=True), gic.lr(41, gic.PENDING, 0x40))
    iar = gic.guest_read(gic.gicv("IAR"))
    both = gic.virtual(entries, control=gic.vmcr(grp0=True, grp1=True))
    assert gic_flags.vector_flags(machine, [*both, iar]) == []
    assert gic_flags.vector_flags(machine, [*both, gic.guest_write(gic.gicv("CTLR"), 1), iar]) == [
        gic_flags.VGROUP_DISABLED_PENDING]
    only0 = gic.virtual(entries, control=gic.vmcr(grp0=True))
    assert gic_flags.vector_flags(machine, [*only0, gic.guest_write(gic.gicv("CTLR"), 3), iar]) == []
    assert gic_flags.vector_flags(machine, only0) == []  # no choosing read: no flag
    busy = gic.virtual((gic.lr(70, gic.PENDING, 0x00),), apr=1 << 1, control=gic.vmcr(grp0=True, bpr=4))
    assert gic_flags.vector_flags(machine, [*busy, iar]) == [gic_flags.GROUP_PRIORITY_PREEMPTS]
    # GICV_HPPIR does not consult the running priority: no preemption flag there.
    assert gic_flags.vector_flags(machine, [*busy, gic.guest_read(gic.gicv("HPPIR"))]) == []


def test_scenarios_carry_no_deviation_flag(by_id: dict[str, dict[str, Any]]) -> None:
    for vector in by_id.values():
        if vector["kind"] not in ("witness", "random"):
            assert not set(vector.get("flags", ())) & set(FLAG_NAMES), vector["id"]


def test_each_flag_entry_matches_only_vectors_with_its_flag() -> None:
    """The entries for these flags match a disagreement carrying the entry's flags (with the step
    flags a conform run adds), and no gic entry matches the same disagreement without the vector
    flag. The differing bits are the CPUID field where the entry limits them to it."""
    deviations = load_deviations()
    entries = {d.id: d for d in deviations if set(d.flags) & set(FLAG_NAMES)}
    assert set(entries) == {"qemu-gicv-hppir-shows-disabled-group", "qemu-gicv-disabled-group-acknowledged",
                            "qemu-gicv-preemption-unmasked-running-priority", "qemu-gicv-hw-sgi-cpuid"}
    step = ("EL_SVC", "OP_READ", "REG_GICV_IAR", "READS_GICV_IAR")
    for entry in entries.values():
        values = ("gic-r1", "gic", "read", "0x3ff", "0x3fe")
        xor = 0x1C00 if entry.differs_in is not None else 0x1
        others = tuple(f for f in entry.flags if f not in FLAG_NAMES)
        with_flag = Disagreement(*values, (*step, *entry.flags), "0xffffffff", xor)
        without = Disagreement(*values, (*step, *others), "0xffffffff", xor)
        assert entry.matches(with_flag) and match_deviation(with_flag, deviations) is entry, entry.id
        assert match_deviation(without, deviations) is None, entry.id
    assert all(d.flags or d.flag for d in deviations if d.category == "gic")
