"""The generic timer (spec/11): worked examples and a differential test of both semantics.

Expected values are derived by hand from ARM DDI 0406C.d chapter B8 and the register
descriptions of §B4.1:

- CNTVCT = CNTPCT - CNTVOFF, modulo 2^64;
- the CTL registers: ENABLE bit 0, IMASK bit 1, ISTATUS bit 2 (read-only); other bits reserved;
- the timer condition: counter - CVAL >= 0 over the (unbounded) integers, i.e. the unsigned
  comparison counter >= CVAL; the virtual timer's counter is the virtual count;
- ISTATUS = ENABLE and condition met; the interrupt output = ISTATUS and not IMASK;
- a TVAL read returns (CVAL - counter)<31:0>; a TVAL write sets CVAL = counter + SignExtend(value).

Each example's arithmetic is written out beside it.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, State
from hypspec.concrete.runtime import SpecAssertionError
from tests.helpers.agreement import agree

U64 = (1 << 64) - 1
ENABLE, IMASK, ISTATUS = 1, 2, 4
TIMER_REGISTERS = (
    "CNTFRQ", "CNTKCTL", "CNTP_TVAL", "CNTP_CTL", "CNTV_TVAL", "CNTV_CTL", "CNTHCTL", "CNTHP_TVAL",
    "CNTHP_CTL", "CNTPCT", "CNTVCT", "CNTP_CVAL", "CNTV_CVAL", "CNTVOFF", "CNTHP_CVAL",
)


def read(spec: Spec, state: State, reg: str, count: int) -> int:
    return spec.call("Timer.Read", f"SysReg_{reg}", count, state=state)


def write(spec: Spec, state: State, reg: str, value: int, count: int) -> None:
    spec.call("Timer.Write", f"SysReg_{reg}", value, count, state=state)


def level(spec: Spec, state: State, timer: str, count: int) -> bool:
    return spec.call(f"Timer.{timer}IRQLevel", count, state=state)


# ---- counters ---------------------------------------------------------------------------


def test_cntfrq_resets_to_qemu_frequency(spec: Spec) -> None:
    # 62.5 MHz = 62,500,000 = 0x03B9ACA0 (1,000,000,000 / 16 = 0x3B9ACA00 / 16).
    assert read(spec, spec.state(), "CNTFRQ", 0) == 0x03B9ACA0 == 62_500_000


def test_cntfrq_write_is_read_back(spec: Spec) -> None:
    # A 32-bit register: the high half of the value written is ignored.
    state = spec.state()
    write(spec, state, "CNTFRQ", 0xDEAD_0000_0100_0000, 0)
    assert read(spec, state, "CNTFRQ", 0) == 0x0100_0000


def test_cntpct_is_the_count(spec: Spec) -> None:
    state = spec.state(CNTVOFF=0x1234)
    for count in (0, 1, 0x0000_0001_0000_0000, U64):
        assert read(spec, state, "CNTPCT", count) == count


def test_cntvct_subtracts_cntvoff(spec: Spec) -> None:
    # 0x1_0000_0000 - 0x10 = 0xFFFF_FFF0 (a borrow out of the low word).
    state = spec.state(CNTVOFF=0x10)
    assert read(spec, state, "CNTVCT", 0x1_0000_0000) == 0xFFFF_FFF0


def test_cntvct_wraps_modulo_2_64(spec: Spec) -> None:
    # 5 - 6 = -1 = 2^64 - 1.
    state = spec.state(CNTVOFF=6)
    assert read(spec, state, "CNTVCT", 5) == U64


def test_cntvoff_write_changes_cntvct(spec: Spec) -> None:
    # After CNTVOFF = 0x100: CNTVCT at count 0x1000 is 0x0F00.
    state = spec.state()
    assert read(spec, state, "CNTVCT", 0x1000) == 0x1000
    write(spec, state, "CNTVOFF", 0x100, 0)
    assert read(spec, state, "CNTVOFF", 0) == 0x100
    assert read(spec, state, "CNTVCT", 0x1000) == 0x0F00


def test_counts_are_read_only(spec: Spec) -> None:
    state = spec.state()
    write(spec, state, "CNTPCT", 7, 100)
    write(spec, state, "CNTVCT", 7, 100)
    assert read(spec, state, "CNTPCT", 100) == 100 and read(spec, state, "CNTVCT", 100) == 100


# ---- TimerValue view --------------------------------------------------------------------


def test_physical_tval_write_then_cval_and_tval(spec: Spec) -> None:
    # At count 1000 (0x3E8), TVAL = 0x100 sets CVAL = 0x3E8 + 0x100 = 0x4E8 (1256).
    state = spec.state()
    write(spec, state, "CNTP_TVAL", 0x100, 1000)
    assert read(spec, state, "CNTP_CVAL", 0) == 0x4E8
    # At count 1100: 1256 - 1100 = 156 = 0x9C.
    assert read(spec, state, "CNTP_TVAL", 1100) == 0x9C
    # At count 1300: 1256 - 1300 = -44 = 0xFFFF_FFD4 as 32 bits (and zero in the high half).
    assert read(spec, state, "CNTP_TVAL", 1300) == 0xFFFF_FFD4


def test_negative_tval_is_sign_extended(spec: Spec) -> None:
    # TVAL = 0xFFFF_FF00 is -256: CVAL = 1000 - 256 = 744 = 0x2E8, not 1000 + 0xFFFF_FF00.
    state = spec.state()
    write(spec, state, "CNTP_TVAL", 0xFFFF_FF00, 1000)
    assert read(spec, state, "CNTP_CVAL", 0) == 0x2E8


def test_tval_write_ignores_the_high_half(spec: Spec) -> None:
    # Only value<31:0> = 0x10 counts: CVAL = 0x20 + 0x10 = 0x30.
    state = spec.state()
    write(spec, state, "CNTHP_TVAL", 0xFFFF_FFFF_0000_0010, 0x20)
    assert read(spec, state, "CNTHP_CVAL", 0) == 0x30


def test_tval_write_wraps_the_compare_value(spec: Spec) -> None:
    # Count 2^64 - 2, TVAL = 5: CVAL = 2^64 - 2 + 5 = 3 (mod 2^64).
    state = spec.state()
    write(spec, state, "CNTP_TVAL", 5, U64 - 1)
    assert read(spec, state, "CNTP_CVAL", 0) == 3


def test_tval_read_truncates_a_far_compare_value(spec: Spec) -> None:
    # CVAL - count = 0x1_0000_0005: the read keeps the low 32 bits, 5.
    state = spec.state(CNTP_CVAL=0x1_0000_0105)
    assert read(spec, state, "CNTP_TVAL", 0x100) == 5


def test_virtual_tval_uses_the_virtual_count(spec: Spec) -> None:
    # CNTVOFF = 500, count 1000: CNTVCT = 500; TVAL = 100 sets CNTV_CVAL = 600 (not 1100).
    state = spec.state(CNTVOFF=500)
    write(spec, state, "CNTV_TVAL", 100, 1000)
    assert read(spec, state, "CNTV_CVAL", 0) == 600
    # At count 1050 the virtual count is 550: TVAL = 600 - 550 = 50.
    assert read(spec, state, "CNTV_TVAL", 1050) == 50


def test_virtual_cval_write_then_tval(spec: Spec) -> None:
    # CNTVOFF = 0x1000, CNTV_CVAL = 0x5000, count 0x3000: CNTVCT = 0x2000, TVAL = 0x3000.
    state = spec.state(CNTVOFF=0x1000)
    write(spec, state, "CNTV_CVAL", 0x5000, 0)
    assert read(spec, state, "CNTV_TVAL", 0x3000) == 0x3000
    # Count 0x7000: CNTVCT = 0x6000, TVAL = 0x5000 - 0x6000 = -0x1000 = 0xFFFF_F000.
    assert read(spec, state, "CNTV_TVAL", 0x7000) == 0xFFFF_F000


def test_cval_is_64_bits(spec: Spec) -> None:
    state = spec.state()
    write(spec, state, "CNTV_CVAL", 0x0123_4567_89AB_CDEF, 0)
    assert read(spec, state, "CNTV_CVAL", 0) == 0x0123_4567_89AB_CDEF


# ---- control register, ISTATUS and the condition ---------------------------------------


def test_istatus_at_the_boundary(spec: Spec) -> None:
    # ENABLE = 1, CVAL = 1000. Count 999: 999 - 1000 < 0, not met: CTL reads ENABLE only (1).
    # Count 1000: 1000 - 1000 = 0 >= 0, met: CTL reads ENABLE | ISTATUS = 0b101 = 5.
    state = spec.state(CNTP_CTL=ENABLE, CNTP_CVAL=1000)
    assert read(spec, state, "CNTP_CTL", 999) == ENABLE
    assert read(spec, state, "CNTP_CTL", 1000) == ENABLE | ISTATUS
    assert read(spec, state, "CNTP_CTL", 1001) == ENABLE | ISTATUS
    assert not level(spec, state, "Physical", 999)
    assert level(spec, state, "Physical", 1000)


def test_condition_is_an_unsigned_comparison(spec: Spec) -> None:
    # CVAL = 2^64 - 1, count 0: 0 - (2^64 - 1) < 0, not met; the 64-bit wrapped difference
    # would be 1 (>= 0 as signed) and wrongly say met.
    state = spec.state(CNTP_CTL=ENABLE, CNTP_CVAL=U64)
    assert read(spec, state, "CNTP_CTL", 0) == ENABLE
    assert read(spec, state, "CNTP_CTL", U64) == ENABLE | ISTATUS
    # CVAL = 0, count 2^63: met (2^63 >= 0), although the wrapped difference 2^63 is negative
    # as a signed 64-bit number.
    state = spec.state(CNTP_CTL=ENABLE, CNTP_CVAL=0)
    assert read(spec, state, "CNTP_CTL", 1 << 63) == ENABLE | ISTATUS


def test_virtual_condition_wraps_with_the_virtual_count(spec: Spec) -> None:
    # CNTVOFF = 2000, count 1500: CNTVCT = 1500 - 2000 = 2^64 - 500, which is >= CVAL = 1000.
    state = spec.state(CNTV_CTL=ENABLE, CNTV_CVAL=1000, CNTVOFF=2000)
    assert read(spec, state, "CNTV_CTL", 1500) == ENABLE | ISTATUS
    # Count 3000: CNTVCT = 1000, met exactly at the boundary; count 2999: CNTVCT = 999, not met.
    assert read(spec, state, "CNTV_CTL", 3000) == ENABLE | ISTATUS
    assert read(spec, state, "CNTV_CTL", 2999) == ENABLE


def test_disabled_timer_has_no_status_and_no_output(spec: Spec) -> None:
    # ENABLE = 0: the condition is not met whatever CVAL is; CTL reads 0.
    state = spec.state(CNTV_CTL=0, CNTV_CVAL=0)
    assert read(spec, state, "CNTV_CTL", 12345) == 0
    assert not level(spec, state, "Virtual", 12345)


def test_imask_masks_the_output_not_istatus(spec: Spec) -> None:
    # ENABLE | IMASK = 3, condition met: CTL reads 0b111 = 7, but the output is low.
    state = spec.state(CNTV_CTL=ENABLE | IMASK, CNTV_CVAL=10)
    assert read(spec, state, "CNTV_CTL", 10) == ENABLE | IMASK | ISTATUS
    assert not level(spec, state, "Virtual", 10)
    # Clearing IMASK (writing CTL = 1) raises it.
    write(spec, state, "CNTV_CTL", ENABLE, 10)
    assert level(spec, state, "Virtual", 10)


def test_ctl_write_keeps_only_enable_and_imask(spec: Spec) -> None:
    # 0xFFFF_FFFF written: ENABLE and IMASK stored (3); ISTATUS is not stored, and with CVAL
    # 0x100 above the count 0x10 the condition is not met, so CTL reads 3.
    state = spec.state(CNTHP_CVAL=0x100)
    write(spec, state, "CNTHP_CTL", 0xFFFF_FFFF, 0x10)
    assert state.CNTHP_CTL == 3
    assert read(spec, state, "CNTHP_CTL", 0x10) == ENABLE | IMASK


def test_cntvoff_does_not_affect_the_physical_timer(spec: Spec) -> None:
    # Both timers: ENABLE, CVAL = 1000; CNTVOFF = 1000; count 1500. Physical: 1500 >= 1000,
    # met. Virtual: CNTVCT = 500 < 1000, not met.
    state = spec.state(CNTP_CTL=ENABLE, CNTP_CVAL=1000, CNTV_CTL=ENABLE, CNTV_CVAL=1000, CNTVOFF=1000)
    assert level(spec, state, "Physical", 1500) and not level(spec, state, "Virtual", 1500)
    # A physical TVAL write ignores CNTVOFF too: count 1500 + TVAL 10 = CVAL 1510.
    write(spec, state, "CNTP_TVAL", 10, 1500)
    assert read(spec, state, "CNTP_CVAL", 0) == 1510


def test_hyp_timer(spec: Spec) -> None:
    # CNTHP compares with the physical count, CNTVOFF notwithstanding. At count 0x2000, TVAL =
    # 0x80 sets CVAL = 0x2080; enabled, it fires at 0x2080, not before.
    state = spec.state(CNTVOFF=0x1_0000)
    write(spec, state, "CNTHP_CTL", ENABLE, 0x2000)
    write(spec, state, "CNTHP_TVAL", 0x80, 0x2000)
    assert read(spec, state, "CNTHP_CVAL", 0) == 0x2080
    assert not level(spec, state, "Hyp", 0x207F)
    assert level(spec, state, "Hyp", 0x2080)
    assert read(spec, state, "CNTHP_CTL", 0x2080) == ENABLE | ISTATUS
    # The other two timers stay low: they are disabled.
    assert not level(spec, state, "Physical", 0x2080) and not level(spec, state, "Virtual", 0x2080)


def test_timers_are_independent(spec: Spec) -> None:
    # Writing one timer's registers leaves the others' alone.
    state = spec.state()
    write(spec, state, "CNTV_CVAL", 0x55, 0)
    write(spec, state, "CNTP_CTL", ENABLE, 0)
    assert state.CNTP_CVAL == 0 and state.CNTHP_CVAL == 0 and state.CNTV_CTL == 0
    assert state.CNTHP_CTL == 0


def test_control_registers_read_back_without_reserved_bits(spec: Spec) -> None:
    # CNTKCTL defines bits 9:0, CNTHCTL bits 7:0 (trap chapter); the rest read as zero.
    state = spec.state()
    write(spec, state, "CNTKCTL", 0xFFFF_FFFF, 0)
    write(spec, state, "CNTHCTL", 0xFFFF_FFFF, 0)
    assert read(spec, state, "CNTKCTL", 0) == 0x3FF
    assert read(spec, state, "CNTHCTL", 0) == 0xFF
    write(spec, state, "CNTHCTL", 0x1, 0)  # PL1PCTEN only
    assert state.CNTHCTL == 1


def test_reset_state_is_quiet(spec: Spec) -> None:
    # Every timer disabled at reset: no output at any count.
    state = spec.state()
    for count in (0, 1, U64):
        for timer in ("Physical", "Virtual", "Hyp"):
            assert not level(spec, state, timer, count)


def test_a_register_outside_the_timer_is_refused(spec: Spec) -> None:
    with pytest.raises(SpecAssertionError):
        read(spec, spec.state(), "SCTLR", 0)
    with pytest.raises(SpecAssertionError):
        write(spec, spec.state(), "HCR", 0, 0)


# ---- both semantics agree -----------------------------------------------------------------

WORD64 = st.one_of(
    st.sampled_from([0, 1, 999, 1000, 1001, (1 << 32) - 1, 1 << 32, (1 << 63) - 1, 1 << 63, U64 - 1, U64]),
    st.integers(0, U64),
)


@st.composite
def timer_states(draw: st.DrawFn) -> dict[str, Any]:
    ctl = st.integers(0, 7)
    return {
        "CNTP_CTL": draw(ctl), "CNTV_CTL": draw(ctl), "CNTHP_CTL": draw(ctl),
        "CNTP_CVAL": draw(WORD64), "CNTV_CVAL": draw(WORD64), "CNTHP_CVAL": draw(WORD64),
        "CNTVOFF": draw(WORD64), "CNTFRQ": draw(st.integers(0, (1 << 32) - 1)),
        "CNTKCTL": draw(st.integers(0, 0x3FF)), "CNTHCTL": draw(st.integers(0, 0xFF)),
    }


def _member(spec: Spec, name: str) -> int:
    return spec.program.functions["Timer.Read"].params[0].ty.members.index(f"SysReg_{name}")  # type: ignore[union-attr]


@settings(max_examples=150)
@given(reg=st.sampled_from(TIMER_REGISTERS), count=WORD64, registers=timer_states())
def test_timer_read_agrees(spec: Spec, reg: str, count: int, registers: dict[str, Any]) -> None:
    agree(spec, "Timer.Read", [_member(spec, reg), count], registers)


@settings(max_examples=150)
@given(reg=st.sampled_from(TIMER_REGISTERS), value=WORD64, count=WORD64, registers=timer_states())
def test_timer_write_agrees(spec: Spec, reg: str, value: int, count: int, registers: dict[str, Any]) -> None:
    agree(spec, "Timer.Write", [_member(spec, reg), value, count], registers)


@settings(max_examples=100)
@given(timer=st.sampled_from(["Physical", "Virtual", "Hyp"]), count=WORD64, registers=timer_states())
def test_irq_levels_agree(spec: Spec, timer: str, count: int, registers: dict[str, Any]) -> None:
    agree(spec, f"Timer.{timer}IRQLevel", [count], registers)


@settings(max_examples=100)
@given(counter=WORD64, cval=WORD64)
def test_condition_is_unsigned_greater_or_equal(spec: Spec, counter: int, cval: int) -> None:
    # The spec's 65-bit sign test against Python's unbounded integers: counter - cval >= 0.
    assert spec.call("Timer.ConditionMet", counter, cval) == (counter - cval >= 0)
