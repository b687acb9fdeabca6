"""The script harness (categories gic and timers), run on QEMU against values derived by hand.

Every expected value below comes from the register layouts of ARM IHI 0048B.b (the GICv2
architecture specification) and ARM DDI 0406C.d (the HSR, the generic timer):

* GICH_VTR (§5.3.2): PRIbits[31:29] = priority bits - 1, PREbits[28:26] = preemption bits - 1,
  ListRegs[5:0] = list registers - 1.  QEMU's virtual interface has 5 and 5 bits and 4 list
  registers: 0b100 << 29 | 0b100 << 26 | 3 = 0x90000003.
* GICH_LRn (§5.3.9): VirtualID[9:0], PhysicalID[19:10] (HW = 0: bit 19 = EOI, bits [12:10] the
  CPUID of an SGI), Priority[27:23] (the top five bits of the priority), State[29:28]
  (0 invalid, 1 pending, 2 active, 3 pending and active), Grp1[30], HW[31].
* GICV_IAR (§5.4 / §4.4.4): CPUID[12:10] of an SGI, InterruptID[9:0]; 1023 = spurious.
* GICH_EISR0 (§5.3.6): bit n = LR n is invalid, not HW, with EOI set.  GICH_ELRSR0 (§5.3.7):
  bit n = LR n holds no interrupt (invalid, and not waiting for an EOI maintenance interrupt).
  GICH_MISR (§5.3.5): EOI[0] = some EISR bit is set.
* GICV_APR0: bit (group priority >> 3) set while an interrupt of that priority is active; with
  priority 0 that is bit 0.  GICV_RPR: the priority of the active interrupt.
* GICD_TYPER (§4.3.2): ITLinesNumber[4:0] = interrupts / 32 - 1; 288 interrupts give 8.
* HSR for a trapped MRRC (DDI 0406C.d §B3.13.6): EC[31:26] = 0x04, IL[25] = 1, CV[24] = 1,
  COND[23:20] = 0xE, Opc1[19:16], Rt2[13:10], Rt[8:5], CRm[4:1], Direction[0] = 1 (read).
  The harness reads a 64-bit register into r2 (Rt) and r3 (Rt2).

No test here is skipped when QEMU or binutils are missing: the run fails with the install hint.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.categories.category import LoadedVector
from hypspec.categories.script import steps as script
from hypspec.categories.script.case import (
    PRELUDE_FIRST,
    ScriptCase,
    ScriptObservation,
    access_flags,
    register_name,
    segments,
    since_flags,
    step_flags,
    validate,
)
from hypspec.categories.script.conform import check_window, compare_script, count_agrees
from hypspec.categories.script.image import emit_script_elf, lower_scripts
from hypspec.categories.script.qemu import parse_output, run_scripts
from hypspec.categories.script.steps import (
    Expect,
    Step,
    mmio_read,
    mmio_write,
    quiesce_steps,
    run_script,
    steps_to_json,
    sysreg_read,
    sysreg_write,
)
from hypspec.conformance.compare import Disagreement
from hypspec.conformance.conform import conform
from hypspec.conformance.deviations import load_deviations
from hypspec.conformance.errors import ConformanceInputError, HarnessRunError
from hypspec.vectors.store import VectorFileError, write_vectors
from tests.helpers.hung import assert_hung_image_kept

GICD, GICC, GICH, GICV = script.GICD_BASE, script.GICC_BASE, script.GICH_BASE, script.GICV_BASE
WORD = 0xFFFF_FFFF
DOUBLE = (1 << 64) - 1
Q = quiesce_steps()  # the prelude of every generated file
START = 0  # index of a vector's first own step (the prelude's steps are not numbered with them)


def exact(value: int, mask: int = WORD) -> Expect:
    return Expect(value, mask)


def lr(vid: int, state: int, *, cpuid: int = 0, eoi: bool = False, priority: int = 0) -> int:
    """GICH_LRn with HW = 0 (IHI 0048B.b §5.3.9)."""
    return state << 28 | (priority >> 3) << 23 | int(eoi) << 19 | cpuid << 10 | vid


PENDING, INVALID = 1, 0

#: The probe of the conformance anchors (§4.3): LR0 pending SGI 5 from CPU 1, LR1 pending
#: vINTID 40 with EOI maintenance; the guest acknowledges and ends both.
PROBE: list[Step] = [
    mmio_read(GICH + 0x004, expect=exact(0x9000_0003)),  # GICH_VTR
    mmio_read(GICH + 0x008, expect=exact(0x004C_0000)),  # GICH_VMCR: the quiesce value
    mmio_read(GICD + 0x004, expect=exact(0x8, 0x1F)),  # GICD_TYPER.ITLinesNumber
    mmio_write(GICH + 0x000, 1),  # GICH_HCR.En
    mmio_write(GICH + 0x100, lr(5, PENDING, cpuid=1)),
    mmio_write(GICH + 0x104, lr(40, PENDING, eoi=True)),
    mmio_write(GICV + 0x000, 1, "svc"),  # GICV_CTLR.EnableGrp0
    mmio_write(GICV + 0x004, 0xF8, "svc"),  # GICV_PMR
    mmio_read(GICV + 0x00C, "svc", exact(1 << 10 | 5)),  # GICV_IAR: CPUID 1, ID 5
    mmio_read(GICV + 0x0D0, "svc", exact(0x1)),  # GICV_APR0: priority 0 active
    mmio_read(GICV + 0x014, "svc", exact(0x0)),  # GICV_RPR
    mmio_write(GICV + 0x010, 1 << 10 | 5, "svc"),  # GICV_EOIR
    mmio_read(GICH + 0x100, expect=exact(lr(5, INVALID, cpuid=1))),
    mmio_read(GICH + 0x104, expect=exact(lr(40, PENDING, eoi=True))),
    mmio_read(GICH + 0x020, expect=exact(0x0)),  # GICH_EISR0
    mmio_read(GICH + 0x030, expect=exact(0b1101)),  # GICH_ELRSR0: LR0, LR2, LR3 empty
    mmio_read(GICV + 0x00C, "usr", exact(40)),
    mmio_write(GICV + 0x010, 40, "usr"),
    mmio_read(GICH + 0x104, expect=exact(lr(40, INVALID, eoi=True))),
    mmio_read(GICH + 0x020, expect=exact(0b10)),  # LR1 waits for its EOI maintenance
    mmio_read(GICH + 0x030, expect=exact(0b1101)),  # ... so it is not empty
    mmio_read(GICH + 0x010, expect=exact(0x1)),  # GICH_MISR.EOI
    mmio_read(GICV + 0x00C, "usr", exact(1023)),  # nothing pending: spurious
]


def case(name: str, steps: list[Step], prelude: list[Step] = Q) -> ScriptCase:
    return ScriptCase(name, tuple(steps), tuple(prelude))


@pytest.fixture(scope="module")
def probe_observation() -> ScriptObservation:
    [observation] = run_scripts([case("probe", PROBE)])
    return observation


def test_probe_agrees_with_the_hand_derived_values(probe_observation: ScriptObservation) -> None:
    assert probe_observation.outcome == "ok", probe_observation.detail
    for offset, step in enumerate(PROBE):
        if step.expect is not None:
            value = probe_observation.reads[START + offset]
            assert value & step.expect.mask == step.expect.value, (offset, step, hex(value))


def test_probe_disagreements_are_none(probe_observation: ScriptObservation) -> None:
    vector = {"id": "probe", "category": "gic", "kind": "probe", "steps": steps_to_json(PROBE)}
    assert compare_script(vector, case("probe", PROBE), probe_observation, category="gic") == []


def test_spec_agrees_with_qemu_on_the_probe(spec: Spec, probe_observation: ScriptObservation) -> None:
    """The same script through the spec's Board.Read/Write (run_script) gives every value QEMU gave."""
    values = run_script(spec, PROBE, count=0x1000)  # after the quiesce steps, as the case
    for index, value in probe_observation.reads.items():
        assert values[index] == value, (index, hex(values[index]), hex(value))


def test_a_wrong_expectation_is_reported_with_its_register() -> None:
    steps = [mmio_read(GICH + 0x004, expect=exact(0x9000_0004))]
    [observation] = run_scripts([case("wrong", steps)])
    vector = {"id": "wrong", "category": "gic", "kind": "x", "steps": [], "flags": ["MINE"]}
    [found] = compare_script(vector, case("wrong", steps), observation, category="gic")
    assert found.field == f"read[{START}]" and found.base_field == "read"
    assert found.expected.startswith("0x90000004") and "GICH_VTR" in found.expected
    assert found.observed == "0x90000003"
    assert found.flags == (
        "MINE", "READS_GICH_VTR", "SINCE_READS_GICH_VTR", "EL_HYP", "OP_READ", "REG_GICH_VTR"
    )


# --- The quiesce steps ---------------------------------------------------------------------------


def _words(base: int, offset: int, count: int, el: str = "hyp") -> list[Step]:
    return [mmio_read(base + offset + 4 * n, el) for n in range(count)]


#: Every GIC and timer register a vector can read without side effects.
READBACK: list[Step] = [
    mmio_read(GICD),
    *_words(GICD, 0x080, 9),  # IGROUPR
    *_words(GICD, 0x100, 9),  # ISENABLER
    *_words(GICD, 0x200, 9),  # ISPENDR
    *_words(GICD, 0x300, 9),  # ISACTIVER
    *_words(GICD, 0x400, 72),  # IPRIORITYR
    *_words(GICD, 0x800, 72),  # ITARGETSR
    *_words(GICD, 0xC00, 18),  # ICFGR
    *_words(GICD, 0xF20, 4),  # SPENDSGIR
    *(mmio_read(GICC + offset) for offset in (0x00, 0x04, 0x08, 0x1C, 0x14, 0x18)),
    *_words(GICC, 0xD0, 8),  # APR0-3, NSAPR0-3
    *(mmio_read(GICH + offset) for offset in (0x000, 0x008, 0x010, 0x020, 0x030, 0x0F0)),
    *_words(GICH, 0x100, 4),  # LR0-3
    *(mmio_read(GICV + offset, "svc") for offset in (0x00, 0x04, 0x08, 0x1C, 0x14, 0x18, 0xD0)),
    *(sysreg_read(name) for name in ("CNTP_CTL", "CNTV_CTL", "CNTHP_CTL", "CNTP_CVAL", "CNTV_CVAL")),
    *(sysreg_read(name) for name in ("CNTHP_CVAL", "CNTVOFF", "CNTKCTL", "CNTHCTL", "CNTFRQ")),
]


def _dirty() -> list[Step]:
    """Everything a vector can leave behind: timers firing, every interrupt enabled, Group 1,
    pending, active and reprioritised, two acknowledged, the virtual interface in use."""
    steps = [sysreg_write(f"{t}_CVAL", 0) for t in ("CNTP", "CNTV", "CNTHP")]
    steps += [sysreg_write(f"{t}_CTL", 1) for t in ("CNTP", "CNTV", "CNTHP")]
    steps += [sysreg_write("CNTVOFF", 0x1234), sysreg_write("CNTKCTL", 0x3FF)]
    steps += [sysreg_write("CNTHCTL", 0xFF), sysreg_write("CNTFRQ", 12345)]
    steps += [mmio_write(GICD, 3), mmio_write(GICC, 0x1FF), mmio_write(GICC + 4, 0xFF)]
    steps += [mmio_write(GICC + 8, 5), mmio_write(GICC + 0x1C, 6)]
    for offset, count, value in (
        (0x080, 9, WORD),
        (0x100, 9, WORD),
        (0x400, 72, 0xA0A0_A0A0),
        (0x800, 72, 0x0101_0101),
        (0xC00, 18, 0xAAAA_AAAA),
        (0xF20, 4, WORD),
        (0x200, 9, WORD),
    ):
        steps += [mmio_write(GICD + offset + 4 * n, value) for n in range(count)]
    steps += [mmio_read(GICC + 0x0C), mmio_read(GICC + 0x0C)]  # acknowledge two
    steps += [mmio_write(GICD + 0x300 + 4 * n, WORD) for n in range(9)]
    steps += [mmio_write(GICH, 0xFF), mmio_write(GICH + 8, 0xF8E0_0203), mmio_write(GICH + 0xF0, 3)]
    hw = 1 << 31  # the last list register is a hardware interrupt
    steps += [mmio_write(GICH + 0x100 + 4 * n, lr(5 + n, n % 4) | (hw if n == 3 else 0)) for n in range(4)]
    return [*steps, mmio_read(GICV + 0x0C, "svc")]


def test_quiesce_restores_the_boot_state(spec: Spec) -> None:
    """After a vector that changes every GIC and timer state, the quiesce steps bring back the
    value every register has after boot and quiesce, and the value the spec gives it."""
    fresh, dirty, after = run_scripts(
        [case("fresh", READBACK), case("dirty", _dirty() + READBACK), case("after", READBACK)]
    )
    assert [fresh.outcome, dirty.outcome, after.outcome] == ["ok"] * 3
    values = run_script(spec, READBACK, count=0x10_0000)
    for offset, step in enumerate(READBACK):
        index = START + offset
        seen = (fresh.reads[index], after.reads[index], values[index])
        assert len(set(seen)) == 1, (register_name(step)[0], [hex(v) for v in seen])
    changed = START + len(_dirty())  # the dirty vector did change state the readback sees
    assert sum(dirty.reads[changed + n] != fresh.reads[START + n] for n in range(len(READBACK))) > 100


def test_run_script_quiesce_is_idempotent_and_count_free(spec: Spec) -> None:
    once = run_script(spec, READBACK, count=5)
    assert run_script(spec, READBACK, count=5, prelude=Q) == once  # the default prelude: quiesce
    assert run_script(spec, Q + READBACK, count=5)[len(Q) :] == once
    assert run_script(spec, Q + Q + READBACK, count=1 << 40)[2 * len(Q) :] == once


# --- The board's wiring (spec/12-virt-board.md) ----------------------------------------------------

#: GICD_ISPENDR0 bits of the four wired PPIs: maintenance 25, Hyp timer 26, virtual timer 27,
#: physical timer 30.  A level-sensitive interrupt is pending while its line is high, enabled or
#: not (IHI 0048B.b §3.2.4); a timer's line is high while CTL.ENABLE = 1, CTL.IMASK = 0 and the
#: count has reached CVAL (DDI 0406C.d §B8.1.5: CVAL = 0 has been reached at any count); the
#: maintenance line while GICH_HCR.En = 1 and a GICH_MISR bit is set (UIE with no valid list
#: register sets MISR.U).
WIRED = {"maintenance": 1 << 25, "CNTHP": 1 << 26, "CNTV": 1 << 27, "CNTP": 1 << 30}


#: The timers whose lines are high after each timer of the script is enabled in turn.
_ON = {"CNTP": ("CNTP",), "CNTV": ("CNTP", "CNTV"), "CNTHP": ("CNTP", "CNTV", "CNTHP")}


def _lines_script() -> list[Step]:
    pend = GICD + 0x200
    steps: list[Step] = []
    for timer in ("CNTP", "CNTV", "CNTHP"):
        steps += [sysreg_write(f"{timer}_CVAL", 0), sysreg_write(f"{timer}_CTL", 1)]
        steps.append(mmio_read(pend, expect=exact(sum(WIRED[t] for t in WIRED if t in _ON[timer]))))
    steps += [mmio_write(GICH, 0b11), mmio_read(pend, expect=exact(sum(WIRED.values())))]
    steps += [sysreg_write("CNTV_CTL", 0b11)]  # IMASK: the virtual timer's line falls
    steps += [mmio_read(pend, expect=exact(sum(WIRED.values()) - WIRED["CNTV"]))]
    steps += [mmio_write(GICH, 0), *(sysreg_write(f"{t}_CTL", 0) for t in ("CNTP", "CNTHP"))]
    return [*steps, mmio_read(pend, expect=exact(0))]


def test_board_wiring_drives_the_ppis(spec: Spec) -> None:
    steps = _lines_script()
    values = run_script(spec, steps, count=0x1234_5678)
    [got] = run_scripts([case("lines", steps)])
    for index, step in enumerate(steps):
        if step.expect is not None:
            assert values[index] == step.expect.value, (index, hex(values[index]))
            assert got.reads[index] == step.expect.value, (index, hex(got.reads[index]))


# --- Exceptions during a script ------------------------------------------------------------------


def test_undefined_at_pl0_stops_the_vector_at_its_step() -> None:
    # CNTKCTL = 0 after quiesce: a PL0 CNTV_CTL access is UNDEFINED (DDI 0406C.d §B4.1, CNTKCTL.PL0VTEN).
    steps = [mmio_read(GICH + 0x004, "usr"), sysreg_read("CNTV_CTL", "usr"), mmio_read(GICH)]
    [got] = run_scripts([case("undef", steps)])
    assert got.outcome == "exception" and got.stopped_at == START + 1
    assert "undefined_instruction" in got.detail and "CNTV_CTL" in got.detail
    assert got.reads == {START: 0x9000_0003}  # the step before it ran


def test_a_trap_to_hyp_names_the_exception_class() -> None:
    # CNTHCTL.PL1PCTEN = 0: a PL1 MRRC of CNTPCT traps to Hyp with EC 0x04 (§B3.13.6):
    # 0x04 << 26 | IL | CV | 0xE << 20 | Rt2 = 3 << 10 | Rt = 2 << 5 | CRm = 14 << 1 | read.
    hsr = 0x04 << 26 | 1 << 25 | 1 << 24 | 0xE << 20 | 3 << 10 | 2 << 5 | 14 << 1 | 1
    assert hsr == 0x13E0_0C5D
    steps = [sysreg_write("CNTHCTL", 0), sysreg_read("CNTPCT", "svc")]
    [got] = run_scripts([case("trap", steps)])
    assert got.outcome == "exception" and got.stopped_at == START + 1
    assert f"HSR={hsr:#010x}" in got.detail and "EC=0x04" in got.detail


def test_an_exception_in_a_hyp_step_is_reported_not_fatal() -> None:
    # MCRR to CNTPCT, a read-only register: UNDEFINED, taken in Hyp mode (vector +0x04).
    steps = [sysreg_write("CNTPCT", 5), mmio_read(GICH + 0x004)]
    cases = [case("hyp-undef", steps), case("after", [mmio_read(GICH + 0x004, expect=exact(0x9000_0003))])]
    first, second = run_scripts(cases)
    assert first.outcome == "exception" and first.stopped_at == START
    assert "undefined_instruction taken in Hyp mode" in first.detail
    assert second.outcome == "ok" and second.reads[START] == 0x9000_0003


def test_the_next_vector_starts_from_quiesce_after_an_exception() -> None:
    dirty = [mmio_write(GICH + 0x100, lr(7, PENDING)), sysreg_read("CNTV_CTL", "usr")]
    clean = [mmio_read(GICH + 0x100, expect=exact(0))]
    first, second = run_scripts([case("dirty", dirty), case("clean", clean)])
    assert first.outcome == "exception" and second.reads[START] == 0


# --- Counter-relative reads ----------------------------------------------------------------------


def test_counter_relative_reads_lie_between_the_hyp_counts() -> None:
    offset = 0x1000
    steps = [
        sysreg_write("CNTVOFF", offset),
        sysreg_write("CNTKCTL", 0b11),  # PL0PCTEN, PL0VCTEN
        sysreg_read("CNTVCT", "usr", Expect(-offset % 2**64, DOUBLE, 1, 64)),
        sysreg_read("CNTPCT", "svc", Expect(0, DOUBLE, 1, 64)),
        sysreg_read("CNTPCT", "hyp", Expect(0, DOUBLE, 1, 64)),
    ]
    [got] = run_scripts([case("counts", steps)])
    assert got.outcome == "ok"
    for index in (START + 2, START + 3, START + 4):
        low, high = got.bounds[index]
        count = got.reads[index] + (offset if index == START + 2 else 0)
        assert low <= count <= high
    vector = {"id": "counts", "category": "timers", "kind": "x", "steps": []}
    assert compare_script(vector, case("counts", steps), got, category="timers") == []


def test_a_tval_write_latches_the_count_for_a_later_cval_read() -> None:
    # CNTV_TVAL write: CVAL = virtual count + value (DDI 0406C.d §B8.1); CNTVOFF = 0 after quiesce.
    steps = [
        sysreg_write("CNTV_TVAL", 0x400, "svc"),
        mmio_read(GICH + 0x004, "svc"),
        sysreg_read("CNTV_CVAL", "svc", Expect(0x400, DOUBLE, 1, 64)),
    ]
    [got] = run_scripts([case("latch", steps)])
    assert START in got.bounds  # the write is timed
    low, high = got.bounds[START]
    assert low + 0x400 <= got.reads[START + 2] <= high + 0x400
    vector = {"id": "latch", "category": "timers", "kind": "x", "steps": []}
    assert compare_script(vector, case("latch", steps), got, category="timers") == []


@pytest.mark.parametrize(
    ("value", "expect", "before", "after", "agrees"),
    [
        (110, Expect(10, DOUBLE, 1, 64), 100, 100, True),
        (110, Expect(10, DOUBLE, 1, 64), 101, 200, False),
        (0xFFFF_FF00, Expect(0, WORD, -1, 32), 0x100, 0x100, True),  # TVAL-like: -count mod 2^32
        (0xFFFF_FF00, Expect(0, WORD, -1, 32), 0x1_0000_0100, 0x1_0000_0100, True),  # count wraps
        (5, Expect(0, WORD, 1, 32), 0x1_0000_0000, 0x1_0000_0004, False),
    ],
)
def test_count_agrees(value: int, expect: Expect, before: int, after: int, agrees: bool) -> None:
    assert count_agrees(value, expect, before, after) is agrees


# --- Segments, images, output --------------------------------------------------------------------


def test_segments_share_the_quiesce_block_and_isolate_timed_steps() -> None:
    steps = [
        mmio_read(GICH),
        mmio_read(GICH, "svc"),
        mmio_read(GICH, "svc"),
        sysreg_read("CNTPCT", "svc", Expect(0, DOUBLE, 1, 64)),
        mmio_read(GICH, "svc"),
        sysreg_write("CNTP_TVAL", 1, "usr"),
    ]
    got = [(s.el, s.first, len(s.steps), s.timed, s.shared) for s in segments(case("s", steps))]
    assert got == [
        ("hyp", PRELUDE_FIRST, len(Q), False, True),
        ("hyp", START, 1, False, False),
        ("svc", START + 1, 2, False, False),
        ("svc", START + 3, 1, True, False),
        ("svc", START + 4, 1, False, False),
        ("usr", START + 5, 1, True, False),
    ]
    source = lower_scripts([case("a", steps), case("b", steps)])
    assert source.count("prelude_0:") == 1 and "prelude_1:" not in source
    # Another prelude in the same image: a block of its own.
    source = lower_scripts([case("a", steps), case("b", steps, Q[:5]), case("c", steps)])
    assert source.count("prelude_0:") == 1 and source.count("prelude_1:") == 1


def test_many_vectors_in_few_images_keep_their_order() -> None:
    cases = [case(f"v{n}", [mmio_write(GICH + 0x100, n), mmio_read(GICH + 0x100, "svc")]) for n in range(300)]
    got = run_scripts(cases, batch=120)
    assert [o.reads[START + 1] for o in got] == list(range(300))


def test_validate_refuses_unrunnable_steps() -> None:
    with pytest.raises(ConformanceInputError, match="unknown system register"):
        validate(case("x", [sysreg_read("CNTFOO")]))
    with pytest.raises(ConformanceInputError, match="not a word in a GIC frame"):
        validate(case("x", [mmio_read(GICH + 0x1000)]))
    with pytest.raises(ConformanceInputError, match="el 'mon'"):
        validate(case("x", [Step("mon", "read", "mmio", GICH, "", 0, None)]))


def test_register_names() -> None:
    assert register_name(mmio_read(GICD + 0x104)) == ("GICD_ISENABLER1", "GICD_ISENABLER")
    assert register_name(mmio_read(GICH + 0x108)) == ("GICH_LR2", "GICH_LR")
    assert register_name(mmio_read(GICV + 0x18)) == ("GICV_HPPIR", "GICV_HPPIR")
    assert register_name(mmio_read(GICC + 0x40)) == ("GICC_RESERVED_040", "GICC_RESERVED")
    assert step_flags(sysreg_read("CNTV_CTL", "usr")) == ("EL_USR", "OP_READ", "REG_CNTV_CTL")


LINE = "R 0 0 df 0 0 0 0 0 2 405 0"


def test_parse_output_accepts_the_format() -> None:
    parsed = parse_output(f"HYPSPEC-SCRIPT 00000001\n{LINE}\nDONE 00000001\n", 1)
    assert parsed.done and parsed.reports[0].words == (0x405, 0)


@pytest.mark.parametrize(
    "text",
    [
        "",
        f"HYPSPEC-TRAP 00000001\n{LINE}\nDONE 00000001\n",  # another harness's banner
        f"HYPSPEC-SCRIPT 00000001\n{LINE} 7\nDONE 00000001\n",  # more words than nwords
        f"HYPSPEC-SCRIPT 00000001\n{LINE.replace(' 405', ' 0405')}\nDONE 00000001\n",  # zero pad
        f"HYPSPEC-SCRIPT 00000001\n{LINE.replace('R 0 0', 'R 0 4')}\nDONE 00000001\n",  # code 4
        f"HYPSPEC-SCRIPT 00000001\n{LINE}\n{LINE}\nDONE 00000001\n",
    ],
)
def test_parse_output_is_strict(text: str) -> None:
    with pytest.raises(HarnessRunError):
        parse_output(text, 1)


def test_an_image_past_its_watchdog_is_a_harness_failure_with_its_image_kept() -> None:
    with pytest.raises(HarnessRunError) as failed:
        run_scripts([case(f"w{n}", [mmio_read(GICH)]) for n in range(2)], timeout=0.001)
    assert_hung_image_kept(str(failed.value), "w0")


def test_emit_script_elf_writes_image_and_manifest(tmp_path: Path) -> None:
    cases = [case(f"e{n}", [mmio_read(GICH, "usr")]) for n in range(3)]
    elves = emit_script_elf(cases, tmp_path, batch=2)
    assert [e.name for e in elves] == ["script_000.elf", "script_001.elf"]
    manifest = json.loads((tmp_path / "script_001.json").read_text())
    assert manifest["cases"][0]["id"] == "e2" and manifest["qemu"][-1] == "script_001.elf"
    assert manifest["cases"][0]["segments"][-1] == {"el": "usr", "first": START, "steps": 1, "timed": False}
    assert manifest["cases"][0]["segments"][0] == {
        "el": "hyp", "prelude": True, "first": 0, "steps": len(Q), "timed": False
    }


# --- Through hypspec conform ---------------------------------------------------------------------


def _write(
    path: Path, category: str, vectors: list[dict[str, object]], prelude: list[Step] | None = Q
) -> None:
    meta: dict[str, object] = {
        "format": "hypspec-vectors/1",
        "category": category,
        "spec_hash": "0" * 64,
        "generator": "test",
        "seed": 0,
        "count": len(vectors),
        "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}},
    }
    if prelude is not None:
        meta["prelude"] = steps_to_json(prelude)
    write_vectors(path, meta, vectors)


def test_a_deviation_with_differs_in_matches_only_those_bits(tmp_path: Path) -> None:
    deviations = tmp_path / "d.toml"
    deviations.write_text(
        "[[deviation]]\n"
        'id = "cpuid"\ncategory = "gic"\nfields = ["read"]\nflags = ["REG_GICV_HPPIR"]\n'
        'differs_in = "0x1c00"\nreason = "r"\ncitation = "ARM IHI 0048B.b §4.4.8"\nright = "spec"\n'
    )
    [entry] = load_deviations(deviations)
    flags = ("REG_GICV_HPPIR",)
    cpuid_only = Disagreement("v", "gic", "read[5]", "0x404", "0x4", flags, "0xffffffff", 0x400)
    more = Disagreement("v", "gic", "read[5]", "0x404", "0x5", flags, "0xffffffff", 0x401)
    assert entry.matches(cpuid_only) and not entry.matches(more)


def test_counts_outside_the_files_window_are_a_disagreement() -> None:
    steps = [sysreg_read("CNTPCT", expect=Expect(0, DOUBLE, 1, 64))]
    vector = {"id": "w", "category": "timers", "kind": "x", "steps": []}
    item = LoadedVector(Path("t.jsonl"), "timers", vector, case("w", steps), window=(0, 1 << 20))
    inside = ScriptObservation("w", "ok", {START: 5}, {START: (4, 6)})
    outside = ScriptObservation("w", "ok", {START: 1 << 20}, {START: (1 << 20, 1 << 20)})
    assert check_window(item, inside) == []
    [found] = check_window(item, outside)
    assert found.field == "outcome" and "count_window" in found.expected


def test_access_flags_name_the_registers_after_quiesce() -> None:
    steps = [mmio_write(GICV + 0x24, 5, "svc"), mmio_read(GICH + 0x100), mmio_read(GICH + 0x104)]
    assert access_flags(case("a", steps)) == ("READS_GICH_LR", "WRITES_GICV_AEOIR")


def test_since_flags_name_only_the_accesses_up_to_the_step() -> None:
    steps = [mmio_read(GICH + 0x100), mmio_write(GICV + 0x24, 5, "svc"), mmio_read(GICH + 0x104)]
    c = case("a", steps)
    assert since_flags(c, 0) == ("SINCE_READS_GICH_LR",)
    assert since_flags(c, 2) == ("SINCE_READS_GICH_LR", "SINCE_WRITES_GICV_AEOIR")
    assert since_flags(c, None) == ()


def test_a_since_deviation_excuses_only_the_reads_after_the_access(tmp_path: Path) -> None:
    """Two wrong GICV_IIDR reads, one before and one after a GICH_HCR read: an entry naming
    SINCE_READS_GICH_HCR explains the second only."""
    iidr = mmio_read(GICV + 0x0FC, expect=exact(0x1234))
    steps = [iidr, mmio_read(GICH + 0x000), iidr]
    _write(tmp_path / "gic.jsonl", "gic", [{"id": "gic-two", "category": "gic", "kind": "iidr",
                                            "steps": steps_to_json(steps)}])
    deviations = tmp_path / "deviations.toml"
    deviations.write_text(
        "[[deviation]]\n"
        'id = "test-since"\ncategory = "gic"\nfields = ["read"]\nflags = ["SINCE_READS_GICH_HCR"]\n'
        'reason = "a test"\ncitation = "ARM IHI 0048B.b §5.4"\nright = "implementation"\n'
    )
    report = conform([tmp_path / "gic.jsonl"], deviations=deviations)
    found = sorted((f.disagreement.field, f.deviation is not None) for f in report.findings)
    assert found == [("read[0]", False), ("read[2]", True)]


def test_conform_runs_script_vectors_and_matches_deviations(tmp_path: Path) -> None:
    good = {"id": "gic-good", "category": "gic", "kind": "probe", "steps": steps_to_json(PROBE)}
    bad_steps = [mmio_read(GICV + 0x0FC, expect=exact(0x1234))]  # GICV_IIDR is not 0x1234
    bad = {"id": "gic-bad", "category": "gic", "kind": "iidr", "steps": steps_to_json(bad_steps)}
    _write(tmp_path / "gic.jsonl", "gic", [good, bad])
    deviations = tmp_path / "deviations.toml"
    deviations.write_text(
        "[[deviation]]\n"
        'id = "test-iidr"\ncategory = "gic"\nfields = ["read"]\nflags = ["REG_GICV_IIDR"]\n'
        'reason = "a test"\ncitation = "ARM IHI 0048B.b §5.4"\nright = "implementation"\n'
    )
    report = conform([tmp_path / "gic.jsonl"], deviations=deviations, emit_elf=tmp_path / "elf")
    counts = report.categories["gic"]
    assert (counts.vectors, counts.agree, counts.known, counts.disagree) == (2, 1, 1, 0)
    assert report.exit_code == 0
    manifest = json.loads((tmp_path / "elf" / "script_000.json").read_text())
    assert manifest["expected"][1]["check"][str(START)]["register"] == "GICV_IIDR"
    assert load_deviations(deviations)[0].citation.startswith("ARM IHI 0048B.b")


# --- The prelude of a file (meta.prelude) ----------------------------------------------------------


def test_an_exception_in_the_prelude_names_the_prelude_step() -> None:
    # A Hyp MCRR to CNTPCT (read-only) is UNDEFINED, taken in Hyp mode: the prelude stops there.
    prelude = [*Q, sysreg_write("CNTPCT", 5)]
    steps = [mmio_read(GICH + 0x004, expect=exact(0x9000_0003))]
    first, second = run_scripts([case("bad-prelude", steps, prelude), case("next", steps)])
    assert first.outcome == "exception" and first.stopped_at is None and first.prelude_step == len(Q)
    assert "at prelude step" in first.detail and first.reads == {}
    vector = {"id": "bad-prelude", "category": "timers", "kind": "x", "steps": []}
    [found] = compare_script(vector, case("bad-prelude", steps, prelude), first, category="timers")
    assert found.field == "outcome" and "REG_CNTPCT" in found.flags
    assert second.outcome == "ok" and second.reads == {0: 0x9000_0003}


def _lines(path: Path, meta: dict[str, object], vectors: list[dict[str, object]]) -> Path:
    """A vector file written by hand (write_vectors would refuse a bad meta)."""
    path.write_text("\n".join(json.dumps(r) for r in [{"meta": meta}, *vectors]) + "\n")
    return path


def _meta(category: str, count: int, **extra: object) -> dict[str, object]:
    return {
        "format": "hypspec-vectors/1", "category": category, "spec_hash": "0" * 64, "generator": "test",
        "seed": 0, "count": count, "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}},
        **extra,
    }


def test_conform_takes_each_files_prelude(tmp_path: Path) -> None:
    """Two files in one run, one image: the first's prelude also writes GICH_LR0 (pending vINTID 7),
    so its vector reads that back; the second's prelude is the quiesce steps alone, so LR0 reads 0."""
    entry = lr(7, PENDING)
    read_lr0 = mmio_read(GICH + 0x100, expect=exact(entry))
    _write(tmp_path / "a.jsonl", "gic", [{"id": "a", "category": "gic", "kind": "x",
                                          "steps": steps_to_json([read_lr0])}],
           prelude=[*Q, mmio_write(GICH + 0x100, entry)])
    empty = mmio_read(GICH + 0x100, expect=exact(0))
    _write(tmp_path / "b.jsonl", "gic", [{"id": "b", "category": "gic", "kind": "x",
                                          "steps": steps_to_json([empty])}])
    report = conform([tmp_path])
    assert report.categories["gic"].agree == 2, [f.disagreement for f in report.findings]


def test_a_script_file_without_a_prelude_is_bad_input(tmp_path: Path) -> None:
    vector = {"id": "v", "category": "gic", "kind": "x", "steps": steps_to_json([mmio_read(GICH)])}
    path = _lines(tmp_path / "gic.jsonl", _meta("gic", 1), [vector])
    with pytest.raises(VectorFileError, match=r"field 'meta'.*'prelude' is a required property"):
        conform([path])
    with pytest.raises(VectorFileError, match="prelude"):  # and write_vectors will not write one
        _write(tmp_path / "w.jsonl", "gic", [vector], prelude=None)


@pytest.mark.parametrize(
    ("prelude", "error", "message"),
    [
        ([mmio_write(0x0900_0000, 0)], ConformanceInputError, r"meta\.prelude: prelude step 0: address 0x9"),
        ([sysreg_write("CNTFOO", 0)], ConformanceInputError, r"meta\.prelude: prelude step 0: unknown sys"),
        ([mmio_write(GICH, 0, "svc")], VectorFileError, r"field 'meta/prelude/0/el'"),
        ([mmio_read(GICH, expect=exact(0))], VectorFileError, r"field 'meta/prelude/0/expect'"),
    ],
)
def test_a_malformed_prelude_is_bad_input_and_nothing_runs(
    tmp_path: Path, prelude: list[Step], error: type[Exception], message: str
) -> None:
    vector = {"id": "v", "category": "timers", "kind": "x", "steps": steps_to_json([mmio_read(GICH)])}
    path = _lines(tmp_path / "t.jsonl", _meta("timers", 1, prelude=steps_to_json(prelude)), [vector])
    with pytest.raises(error, match=message):
        conform([path])


def test_a_prelude_outside_script_files_is_refused(tmp_path: Path) -> None:
    path = _lines(tmp_path / "s.jsonl", _meta("stage2", 0, prelude=steps_to_json(Q[:1])), [])
    with pytest.raises(VectorFileError, match="field 'meta'"):
        conform([path])


def test_validation_checks_each_distinct_step_even_when_equal_to_a_valid_one(tmp_path: Path) -> None:
    """The writer and the reader check each distinct step once; a step equal in Python to a valid
    one but of another JSON type (count_sign true for 1) is still checked, and refused."""
    good = steps_to_json([sysreg_read("CNTPCT", expect=Expect(0, DOUBLE, 1, 64))])
    bad = json.loads(json.dumps(good))
    bad[0]["expect"]["count_sign"] = True
    vector = {"id": "a", "category": "timers", "kind": "x"}
    _write(tmp_path / "ok.jsonl", "timers", [{**vector, "steps": good}])
    with pytest.raises(VectorFileError, match=r"vector on line 2: field 'steps/0/expect'"):
        _write(tmp_path / "bad.jsonl", "timers", [{**vector, "steps": bad}])


def test_a_preludes_reads_are_run_but_not_compared() -> None:
    """Decoding: a read in the prelude fills a results word the decoder skips; the vector's own
    reads are numbered from 0; a stop in the prelude reports PRELUDE_FIRST + k."""
    from hypspec.categories.script.qemu import RawReport, decode_report

    prelude, steps = [mmio_read(GICH + 0x004)], [mmio_read(GICH + 0x008)]
    ok = decode_report(case("r", steps, prelude), RawReport(0, 0, 1, 0, 0, 0, 0, 0, (0x9000_0003, 0x4C_0000)))
    assert ok.outcome == "ok" and ok.reads == {0: 0x4C_0000}
    stop = RawReport(0, 3, PRELUDE_FIRST, 1, 0, 0, 0, 0, ())
    stopped = decode_report(case("r", steps, prelude), stop)
    assert (stopped.stopped_at, stopped.prelude_step) == (None, 0) and "at prelude step 0" in stopped.detail
    with pytest.raises(HarnessRunError, match="past its"):
        decode_report(case("r", steps, prelude), RawReport(0, 3, PRELUDE_FIRST + 1, 1, 0, 0, 0, 0, ()))
