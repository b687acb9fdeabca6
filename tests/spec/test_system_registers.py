"""System registers (spec/13): storage, reads and writes of every `Model.SysReg` member.

Expected values are derived here from the field definitions of ARM DDI 0406C.d (the register
descriptions of §B4.1, the performance monitors of chapter C12, the debug registers of C11,
the floating-point registers of §A2.7 and §B6.1) and from the Cortex-A15 TRM (ARM DDI 0438),
written as bit positions and field ranges rather than copied masks; the working is beside each
register. The tests:

- every member with state that Non-secure PL1 may write at reset is written and read back,
  and the value read is the value written with the register's fixed bits applied; the same
  in Hyp mode for the Hyp-only registers;
- MIDR and MPIDR read as VPIDR and VMPIDR outside Hyp mode, as the hardware values in it;
- both semantics of `Model.SysRegRead` and `Model.SysRegWrite` agree (Hypothesis);
- every member is classified, and the classes agree with the trap chapter's attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, State
from hypspec.concrete.runtime import SpecAssertionError
from tests.helpers.agreement import agree
from tests.strategies import system_register_states

SVC, USR, HYP = 0x1D3, 0x1D0, 0x1DA
U32, U64 = (1 << 32) - 1, (1 << 64) - 1
FP_ON = {"CPACR": {"cp10": 3, "cp11": 3}, "FPEXC": {"EN": 1}}
#: Values each write-then-read test writes: nothing, everything, and two alternating patterns.
PATTERNS = (0, U64, 0x5555_5555_5555_5555, 0xAAAA_AAAA_AAAA_AAAA, 0x0123_4567_89AB_CDEF)
COUNT = 0x1000  # the physical count of every access in the worked examples


def bits(*positions: int) -> int:
    """A mask of single bits."""
    return sum(1 << p for p in positions)


def field(hi: int, lo: int) -> int:
    """A mask of bits hi..lo."""
    return ((1 << (hi - lo + 1)) - 1) << lo


def members(spec: Spec) -> list[str]:
    return list(spec.program.functions["Model.SysRegRead"].params[0].ty.members)  # type: ignore[union-attr]


def read(spec: Spec, state: State, reg: str, count: int = COUNT) -> int:
    return spec.call("Model.SysRegRead", f"SysReg_{reg}", count, state=state)


def write(spec: Spec, state: State, reg: str, value: int, count: int = COUNT) -> None:
    spec.call("Model.SysRegWrite", f"SysReg_{reg}", value, count, state=state)


def has_state(spec: Spec, reg: str) -> bool:
    return spec.call("Model.SysRegHasState", f"SysReg_{reg}", state=spec.state())


# ---- the fixed bits, from the ARM ARM's field definitions ---------------------------------
#
# SCTLR (§B4.1, VMSA; the fields the exception chapter declares): M 0, A 1, C 2,
# CP15BEN 5, SW 10, Z 11, I 12, V 13, RR 14, WXN 19, UWXN 20, FI 21, EE 25, TRE 28, AFE 29,
# TE 30 are read/write; bits 3, 4, 6, 16, 18, 22, 23 are RAO/SBOP; NMFI 27 is read-only;
# bits 7-9, 15, 17, 24, 26, 31 are RAZ/SBZP.
SCTLR_RW = bits(0, 1, 2, 5, 10, 11, 12, 13, 14, 19, 20, 21, 25, 28, 29, 30)
SCTLR_RAO = bits(3, 4, 6, 16, 18, 22, 23)
SCTLR_NMFI = bits(27)
# HSCTLR (§B4.1.71): M 0, A 1, C 2, CP15BEN 5, I 12, WXN 19, FI 21, EE 25, TE 30 read/write;
# bits 3, 4, 11, 16, 18, 22, 23, 28, 29 RAO/SBOP; the rest RAZ/SBZP.
HSCTLR_RW = bits(0, 1, 2, 5, 12, 19, 21, 25, 30)
HSCTLR_RAO = bits(3, 4, 11, 16, 18, 22, 23, 28, 29)
# CPACR (§B4.1): cp10 21:20, cp11 23:22, D32DIS 30, ASEDIS 31; TRCDIS 28 is RAZ/WI without
# a CP14 trace unit (Cortex-A15), and the fields of absent coprocessors are RAZ/WI.
CPACR_RW = field(23, 20) | bits(30, 31)
# TTBCR (§B4.1). EAE 31 selects the layout. Short-descriptor: N 2:0, PD0 4, PD1 5.
# Long-descriptor: T0SZ 2:0, EPD0 7, IRGN0 9:8, ORGN0 11:10, SH0 13:12, T1SZ 18:16, A1 22,
# EPD1 23, IRGN1 25:24, ORGN1 27:26, SH1 29:28 (bit 30, IMPLEMENTATION DEFINED, kept zero).
TTBCR_SHORT = bits(31) | field(2, 0) | bits(4, 5)
TTBCR_LONG = bits(31) | field(2, 0) | bits(7) | field(13, 8) | field(18, 16) | field(29, 22)
# DFSR and IFSR (§B4.1, §B3.13.3). LPAE 9 selects the format.
# DFSR short: FS 3:0, Domain 7:4, LPAE 9, FS[4] 10, WnR 11, ExT 12, CM 13;
# DFSR long: STATUS 5:0, LPAE 9, WnR 11, ExT 12, CM 13.
DFSR_SHORT = field(7, 0) | bits(9, 10, 11, 12, 13)
DFSR_LONG = field(5, 0) | bits(9, 11, 12, 13)
# IFSR short: FS 3:0, LPAE 9, FS[4] 10, ExT 12; IFSR long: STATUS 5:0, LPAE 9, ExT 12.
IFSR_SHORT = field(3, 0) | bits(9, 10, 12)
IFSR_LONG = field(5, 0) | bits(9, 12)
# TTBR0, TTBR1 (Long-descriptor layout, which also covers the Short-descriptor low word):
# BADDR 39:0, ASID 55:48; bits 47:40 and 63:56 UNK/SBZP. VTTBR: BADDR 39:0, VMID 55:48.
# HTTBR: BADDR 39:0 only.
TTBR_RW = field(39, 0) | field(55, 48)
HTTBR_RW = field(39, 0)
# PMCR (chapter C12): E 0, D 3, X 4, DP 5 read/write; P 1 and C 2 write-only (read zero);
# N 15:11, IDCODE 23:16, IMP 31:24 read-only: Cortex-A15 has IMP 0x41 (ARM), IDCODE 0x0F,
# N = 6 counters (and a PL1 read of N returns HDCR.HPMN, 6 at reset).
PMCR_RW = bits(0, 3, 4, 5)
PMCR_ID = 0x41 << 24 | 0x0F << 16 | 6 << 11
# The PMU's set/clear registers: event counters 0-5 (bits 5:0) and the cycle counter (bit 31).
PMU_BITS = field(5, 0) | bits(31)
# PMXEVTYPER (PMUv2): evtCount 7:0 and the filters P 31, U 30, NSK 29, NSU 28, NSH 27.
EVTYPER_RW = field(7, 0) | field(31, 27)
# FPSCR on Cortex-A15: N, Z, C, V 31:28, QC 27, AHP 26, DN 25, FZ 24, RMode 23:22,
# and the cumulative flags IDC 7, IXC 4, UFC 3, OFC 2, DZC 1, IOC 0; the trap enables (15,
# 12:8), Len 18:16 and Stride 21:20 are RAZ/WI (no trapping, no short vectors).
FPSCR_RW = field(31, 22) | bits(7) | field(4, 0)
# HCR (§B4.1.65): bits 27:0 defined, 31:28 UNK/SBZP. HSTR (§B4.1.73): T0-T3, T5-T13, T15,
# TTEE 16, TJDBX 17. HDCR (§B4.1.66): HPMN 4:0 to TDRA 11. HCPTR (§B4.1.64): TCP0-TCP13,
# TASE 15, TCPAC 31 (TTA 20 RAZ/WI without a CP14 trace unit).
HCR_RW = field(27, 0)
HSTR_RW = field(3, 0) | field(13, 5) | bits(15, 16, 17)
HDCR_RW = field(11, 0)
HCPTR_RW = field(13, 0) | bits(15, 31)
# VTCR (§B4.1, VTCR): T0SZ 3:0, S 4, SL0 7:6, IRGN0 9:8, ORGN0 11:10, SH0 13:12; bit 31 RAO.
# HTCR (§B4.1, HTCR): T0SZ 2:0, IRGN0 9:8, ORGN0 11:10, SH0 13:12; bit 31 RAO.
VTCR_RW = field(4, 0) | field(13, 6)
HTCR_RW = field(2, 0) | field(13, 8)


def _ttbcr(value: int) -> int:
    return value & (TTBCR_LONG if value >> 31 & 1 else TTBCR_SHORT)


def _fsr(value: int, short: int, long: int) -> int:
    return value & (long if value >> 9 & 1 else short)


def _ctl(value: int) -> int:
    # ENABLE 0 and IMASK 1 are stored; ISTATUS 2 is computed: with the compare value at its
    # reset 0 and the count at COUNT, the condition COUNT >= 0 holds, so ISTATUS = ENABLE.
    return (value & 3) | (4 if value & 1 else 0)


#: What a read returns after a write of `v`, given the register's value `old` before it.
Expect = Callable[[int, int], int]
PLAIN32: Expect = lambda v, old: v & U32  # noqa: E731
PLAIN64: Expect = lambda v, old: v  # noqa: E731

PL1_WRITABLE: dict[str, Expect] = {
    "CSSELR": lambda v, old: v & field(3, 0),            # InD 0, Level 3:1
    "SCTLR": lambda v, old: v & SCTLR_RW | SCTLR_RAO | old & SCTLR_NMFI,
    "ACTLR": PLAIN32,                                     # IMPLEMENTATION DEFINED: a plain store
    "CPACR": lambda v, old: v & CPACR_RW,
    "TTBR0": lambda v, old: v & TTBR_RW,
    "TTBR1": lambda v, old: v & TTBR_RW,
    "TTBCR": lambda v, old: _ttbcr(v & U32),
    "DACR": PLAIN32,                                      # D0..D15, two bits each
    "DFSR": lambda v, old: _fsr(v & U32, DFSR_SHORT, DFSR_LONG),
    "IFSR": lambda v, old: _fsr(v & U32, IFSR_SHORT, IFSR_LONG),
    "ADFSR": PLAIN32, "AIFSR": PLAIN32,                   # IMPLEMENTATION DEFINED
    "DFAR": PLAIN32, "IFAR": PLAIN32,
    "PAR": PLAIN64,                                       # Simplified: a plain 64-bit store
    "PMCR": lambda v, old: v & PMCR_RW | PMCR_ID,
    "PMCNTENSET": lambda v, old: (old | v) & PMU_BITS,    # set view: bits written as one are set
    "PMCNTENCLR": lambda v, old: old & ~v & PMU_BITS,     # clear view: bits written as one clear
    "PMOVSR": lambda v, old: old & ~v & PMU_BITS,         # overflow status: write one to clear
    "PMOVSSET": lambda v, old: (old | v) & PMU_BITS,
    "PMINTENSET": lambda v, old: (old | v) & PMU_BITS,
    "PMINTENCLR": lambda v, old: old & ~v & PMU_BITS,
    "PMSELR": lambda v, old: v & field(4, 0),            # SEL 4:0
    "PMCCNTR": PLAIN32,                                   # 32 bits in ARMv7
    "PMXEVTYPER": lambda v, old: v & EVTYPER_RW,          # PMSELR.SEL = 0: event counter 0
    "PMXEVCNTR": PLAIN32,
    "PMUSERENR": lambda v, old: v & bits(0),             # EN 0
    "PRRR": PLAIN32, "NMRR": PLAIN32,                     # also MAIR0, MAIR1: every bit used
    "AMAIR0": PLAIN32, "AMAIR1": PLAIN32,                 # IMPLEMENTATION DEFINED
    "VBAR": lambda v, old: v & field(31, 5),             # bits 4:0 RES0 (32-byte aligned)
    "CONTEXTIDR": PLAIN32,                                # PROCID 31:8, ASID 7:0
    "TPIDRURW": PLAIN32, "TPIDRURO": PLAIN32, "TPIDRPRW": PLAIN32,
    "CNTKCTL": lambda v, old: v & field(9, 0),           # PL0PCTEN 0 .. PL0PTEN 9
    "CNTP_CTL": lambda v, old: _ctl(v),
    "CNTV_CTL": lambda v, old: _ctl(v),
    "CNTP_TVAL": lambda v, old: v & U32,                  # CVAL = count + v; read CVAL - count
    "CNTV_TVAL": lambda v, old: v & U32,
    "CNTP_CVAL": PLAIN64, "CNTV_CVAL": PLAIN64,
    "DBGOSDLR": lambda v, old: v & bits(0),              # DLK 0
    "DBGPRCR": lambda v, old: v & bits(0, 2),            # CORENPDRQ 0, HCWR 2; CWRR 1 write-only
    "DBGOther": PLAIN32,                                  # the representative DBGBVR0
    "TEECR": lambda v, old: v & bits(0),                 # XED 0
    "TEEHBR": lambda v, old: v & field(31, 2),           # HandlerBase 31:2, bits 1:0 RES0
    # DBGDTRint writes DBGDTRTX and reads DBGDTRRX: the read returns the old receive word.
    "DBGDTRint": lambda v, old: old,
}
FP_WRITABLE: dict[str, Expect] = {
    "FPSCR": lambda v, old: v & FPSCR_RW,
    "FPEXC": lambda v, old: v & bits(30),                # EN 30; EX 31 RAZ/WI on Cortex-A15
}
HYP_ONLY: dict[str, Expect] = {
    "VPIDR": PLAIN32, "VMPIDR": PLAIN32,
    "HSCTLR": lambda v, old: v & HSCTLR_RW | HSCTLR_RAO,
    "HACTLR": PLAIN32, "HACR": PLAIN32,
    "HCR": lambda v, old: v & HCR_RW,
    "HDCR": lambda v, old: v & HDCR_RW,
    "HCPTR": lambda v, old: v & HCPTR_RW,
    "HSTR": lambda v, old: v & HSTR_RW,
    "HTCR": lambda v, old: v & HTCR_RW | bits(31),
    "VTCR": lambda v, old: v & VTCR_RW | bits(31),
    "HTTBR": lambda v, old: v & HTTBR_RW,
    "VTTBR": lambda v, old: v & TTBR_RW,
    "HADFSR": PLAIN32, "HAIFSR": PLAIN32, "HSR": PLAIN32,
    "HDFAR": PLAIN32, "HIFAR": PLAIN32,
    "HPFAR": lambda v, old: v & field(31, 4),            # FIPA 31:4
    "HMAIR0": PLAIN32, "HMAIR1": PLAIN32, "HAMAIR0": PLAIN32, "HAMAIR1": PLAIN32,
    "HVBAR": lambda v, old: v & field(31, 5),
    "HTPIDR": PLAIN32,
    "CNTHCTL": lambda v, old: v & field(7, 0),           # PL1PCTEN 0 .. EVNTI 7:4
    "CNTHP_CTL": lambda v, old: _ctl(v),
    "CNTHP_TVAL": lambda v, old: v & U32,
    "CNTHP_CVAL": PLAIN64, "CNTVOFF": PLAIN64,
    "CNTFRQ": PLAIN32,                                     # writable only at the highest level
}


def writable_at_pl1(spec: Spec, config: dict[str, Any]) -> set[str]:
    state = spec.state(CPSR=SVC, **config)
    return {
        m.removeprefix("SysReg_") for m in members(spec)
        if spec.call("Model.SysRegHasState", m, state=state)
        and spec.call("Model.SysRegAccess", m, False, 1, state=state) == "Verdict_Allowed"
    }


def check_round_trips(spec: Spec, table: dict[str, Expect], mode: int, config: dict[str, Any],
                      start: dict[str, Any] | None = None) -> None:
    for reg, expect in table.items():
        for value in PATTERNS:
            state = spec.state(CPSR=mode, **config, **(start or {}))
            old = read(spec, state, reg)  # DBGDTRint: the receive word
            write(spec, state, reg, value)
            got = read(spec, state, reg)
            assert got == expect(value, old), f"{reg} after writing {value:#x}: read {got:#x}"
            width = spec.call("Model.SysRegWidth", f"SysReg_{reg}")
            assert got >> width == 0, f"{reg} reads wider than its {width} bits"


# ---- (a) write, then read back ----------------------------------------------------------


def test_the_pl1_writable_members_are_the_ones_tabled(spec: Spec) -> None:
    # The spec decides which members PL1 may write at reset (the trap chapter); the table above
    # must have an expectation for each, so that no register escapes the round trip.
    assert writable_at_pl1(spec, {}) == set(PL1_WRITABLE)
    assert writable_at_pl1(spec, FP_ON) == set(PL1_WRITABLE) | set(FP_WRITABLE)


def test_pl1_write_then_read(spec: Spec) -> None:
    # Set and clear views start from a mix of ones and zeros, so both directions show.
    start = {"PMCNTENSET": 0x8000_0015, "PMOVSR": 0x8000_0015, "PMINTENSET": 0x8000_0015,
             "DBGDTRRX": 0xCAFE_F00D, "SCTLR": 0x00C5_0078 | SCTLR_NMFI}
    check_round_trips(spec, PL1_WRITABLE, SVC, {}, start)
    check_round_trips(spec, FP_WRITABLE, SVC, FP_ON)


def test_hyp_write_then_read(spec: Spec) -> None:
    # The Hyp-only registers, written and read from Hyp mode, as a hypervisor does.
    check_round_trips(spec, HYP_ONLY, HYP, {})


def test_every_storage_member_has_a_round_trip(spec: Spec) -> None:
    # Every member with state is in one of the three tables, except the two read-only views
    # of storage that another member writes.
    tabled = set(PL1_WRITABLE) | set(FP_WRITABLE) | set(HYP_ONLY)
    storage = {m.removeprefix("SysReg_") for m in members(spec) if has_state(spec, m[7:])}
    assert storage - tabled == {"DBGOSLSR", "DBGDSCRint"}
    assert tabled <= storage


def test_reset_values_hold_the_fixed_bits(spec: Spec) -> None:
    # SCTLR's Cortex-A15 reset 0x00C50078 is its RAO bits plus CP15BEN (bit 5); HSCTLR's reset
    # is its RAO bits; VTCR's and HTCR's only set bit is the RAO bit 31.
    state = spec.state()
    sctlr, vtcr, htcr = state.SCTLR, state.VTCR, state.HTCR
    assert sctlr == SCTLR_RAO | bits(5)
    assert state.HSCTLR == HSCTLR_RAO
    assert vtcr == htcr == bits(31)
    assert state.PMCR == PMCR_ID


def test_write_to_a_value_register_changes_nothing(spec: Spec) -> None:
    # Writes that PL1 may make but Cortex-A15 ignores: the L2 control registers from
    # Non-secure state, the trivial Jazelle registers (RAZ/WI) and FPSID.
    state = spec.state(CPSR=SVC, **FP_ON)
    before = {reg: read(spec, state, reg) for reg in ("L2CTLR", "L2ECTLR", "JOSCR", "JMCR", "FPSID")}
    for reg in before:
        write(spec, state, reg, U64)
    assert {reg: read(spec, state, reg) for reg in before} == before
    # One processor with the GIC present: L2CTLR bits 25:24 = 0 (processors - 1), bit 23 set.
    assert before == {"L2CTLR": bits(23), "L2ECTLR": 0, "JOSCR": 0, "JMCR": 0, "FPSID": 0x410430F0}


def test_dbgdtrint_writes_transmit_and_reads_receive(spec: Spec) -> None:
    state = spec.state(CPSR=SVC, DBGDTRRX=0x1111_2222)
    write(spec, state, "DBGDTRint", 0x3333_4444)
    assert state.DBGDTRTX == 0x3333_4444 and read(spec, state, "DBGDTRint") == 0x1111_2222


def test_sctlr_keeps_nmfi(spec: Spec) -> None:
    # NMFI comes from a configuration input: a write of zero leaves it set, one of ones clear.
    state = spec.state(CPSR=SVC, SCTLR=SCTLR_RAO | SCTLR_NMFI)
    write(spec, state, "SCTLR", 0)
    assert read(spec, state, "SCTLR") == SCTLR_RAO | SCTLR_NMFI
    state = spec.state(CPSR=SVC)
    write(spec, state, "SCTLR", U32)
    assert read(spec, state, "SCTLR") & SCTLR_NMFI == 0


def test_ttbcr_layout_follows_eae(spec: Spec) -> None:
    # EAE clear: PD0 and PD1 (bits 4, 5) kept, EPD0 (bit 7) dropped; EAE set: the reverse.
    state = spec.state(CPSR=SVC)
    write(spec, state, "TTBCR", 0x0000_00B7)
    assert read(spec, state, "TTBCR") == 0x0000_0037
    write(spec, state, "TTBCR", 0x8000_00B7)
    assert read(spec, state, "TTBCR") == 0x8000_0087


def test_a_32_bit_write_takes_the_low_word(spec: Spec) -> None:
    state = spec.state(CPSR=SVC)
    write(spec, state, "CONTEXTIDR", 0xFFFF_FFFF_0000_0042)
    assert read(spec, state, "CONTEXTIDR") == 0x42


# ---- performance monitors: the counter partition and the selected counter -------------


def test_pmcr_n_reads_hpmn_outside_hyp(spec: Spec) -> None:
    # HDCR.HPMN = 2: PL1 sees PMCR.N = 2 (bits 15:11), Hyp mode the six counters.
    hdcr = {"HDCR": {"HPMN": 2}}
    assert read(spec, spec.state(CPSR=SVC, **hdcr), "PMCR") >> 11 & 0x1F == 2
    assert read(spec, spec.state(CPSR=HYP, **hdcr), "PMCR") >> 11 & 0x1F == 6


def test_counters_from_hpmn_on_are_hidden_from_pl1(spec: Spec) -> None:
    # HPMN = 2: PL1 reaches counters 0 and 1 and the cycle counter (bit 31) only.
    state = spec.state(CPSR=SVC, HDCR={"HPMN": 2})
    write(spec, state, "PMCNTENSET", U32)
    stored = state.PMCNTENSET
    assert read(spec, state, "PMCNTENSET") == stored == bits(0, 1, 31)
    state.CPSR = HYP
    write(spec, state, "PMCNTENSET", U32)
    assert read(spec, state, "PMCNTENSET") == PMU_BITS


def test_pmxevcntr_reaches_the_selected_counter(spec: Spec) -> None:
    state = spec.state(CPSR=SVC)
    for n in range(6):
        write(spec, state, "PMSELR", n)
        write(spec, state, "PMXEVCNTR", 0x100 + n)
    counters = list(state.PMEVCNTR)  # arrays are tuples in a state
    assert counters == [0x100 + n for n in range(6)]
    write(spec, state, "PMSELR", 31)  # SEL 31: PMXEVTYPER is the cycle counter's filter
    write(spec, state, "PMXEVTYPER", U32)
    stored = state.PMCCFILTR
    assert read(spec, state, "PMXEVTYPER") == stored == field(31, 27)


def test_pmcr_p_resets_the_event_counters(spec: Spec) -> None:
    # P (bit 1) zeroes the event counters, C (bit 2) the cycle counter; both read as zero.
    state = spec.state(CPSR=SVC, PMEVCNTR=[7] * 6, PMCCNTR=9)
    write(spec, state, "PMCR", bits(0, 1))
    assert list(state.PMEVCNTR) == [0] * 6 and state.PMCCNTR == 9
    write(spec, state, "PMCR", bits(2))
    assert state.PMCCNTR == 0 and read(spec, state, "PMCR") & bits(1, 2) == 0


def test_pmswinc_increments_and_overflows(spec: Spec) -> None:
    # Counter 0 counts SW_INCR (event 0x00), enabled (PMCR.E, PMCNTENSET bit 0), and is at
    # 0xFFFFFFFF: an increment wraps it to 0 and sets its overflow flag. Counter 1 counts another
    # event (0x11, cycles) and does not move.
    state = spec.state(CPSR=SVC, PMCR=PMCR_ID | 1, PMCNTENSET=bits(0, 1),
                       PMEVTYPER=[0x00, 0x11, 0, 0, 0, 0], PMEVCNTR=[U32, 5, 0, 0, 0, 0])
    write(spec, state, "PMSWINC", bits(0, 1))
    counters, overflows = list(state.PMEVCNTR), state.PMOVSR
    assert counters[:2] == [0, 5] and overflows == bits(0)


# ---- (b) MIDR and MPIDR -----------------------------------------------------------------


@pytest.mark.parametrize("mode", [SVC, USR, 0x1DF])
def test_guest_reads_of_midr_and_mpidr_see_the_virtual_values(spec: Spec, mode: int) -> None:
    state = spec.state(CPSR=mode, VPIDR=0x410F_C0F0, VMPIDR=0x8000_0103)
    assert read(spec, state, "MIDR") == 0x410F_C0F0
    assert read(spec, state, "MPIDR") == 0x8000_0103


def test_hyp_reads_of_midr_and_mpidr_see_the_hardware(spec: Spec) -> None:
    # Cortex-A15 r4p0: implementer 0x41, variant 4, architecture 0xF, part 0xC0F, revision 0.
    state = spec.state(CPSR=HYP, VPIDR=0x1234_5678, VMPIDR=0x8000_0103, MPIDR=0x8000_0001)
    assert read(spec, state, "MIDR") == 0x41 << 24 | 4 << 20 | 0xF << 16 | 0xC0F << 4
    assert read(spec, state, "MPIDR") == 0x8000_0001


def test_virtual_ids_reset_to_the_hardware_values(spec: Spec) -> None:
    state = spec.state(CPSR=SVC)
    assert read(spec, state, "MIDR") == spec.program.constants["MIDR"][1] == state.VPIDR
    assert read(spec, state, "MPIDR") == state.MPIDR == state.VMPIDR == 0x8000_0000


def test_a_hypervisor_write_of_vpidr_is_what_the_guest_reads(spec: Spec) -> None:
    state = spec.state(CPSR=HYP)
    write(spec, state, "VPIDR", 0x4100_C0F0)
    state.CPSR = SVC
    assert read(spec, state, "MIDR") == 0x4100_C0F0


# ---- computed values --------------------------------------------------------------------


def test_ccsidr_follows_csselr(spec: Spec) -> None:
    # CSSELR = Level:InD. Each value decodes as LineSize 2 (64 bytes), Associativity - 1 in
    # bits 12:3, NumSets - 1 in bits 27:13: L1D and L1I 2-way x 256 sets x 64 B = 32 KB,
    # L2 16-way x 4096 sets x 64 B = 4 MB.
    def size(ccsidr: int) -> int:
        line = 16 << (ccsidr & 7)
        return line * ((ccsidr >> 3 & 0x3FF) + 1) * ((ccsidr >> 13 & 0x7FFF) + 1)

    state = spec.state(CPSR=SVC)
    sizes = []
    for csselr in (0b0000, 0b0001, 0b0010):
        write(spec, state, "CSSELR", csselr)
        sizes.append(size(read(spec, state, "CCSIDR")))
    assert sizes == [32 * 1024, 32 * 1024, 4 * 1024 * 1024]


def test_isr_shows_virtual_interrupts_to_the_guest(spec: Spec) -> None:
    # HCR: FMO 3, IMO 4, AMO 5, VF 6, VI 7, VA 8. With the routing bits and the virtual
    # exceptions set, a PL1 read shows A, I and F (bits 8, 7, 6); Hyp mode sees the physical
    # lines, which the GIC at reset does not drive.
    hcr = bits(3, 4, 5, 6, 7, 8)
    assert read(spec, spec.state(CPSR=SVC, HCR=hcr), "ISR") == bits(6, 7, 8)
    assert read(spec, spec.state(CPSR=HYP, HCR=hcr), "ISR") == 0
    assert read(spec, spec.state(CPSR=SVC, HCR=bits(6, 7, 8)), "ISR") == 0


def test_dboslar_sets_the_os_lock_only_with_the_key(spec: Spec) -> None:
    # DBGOSLSR resets to OSLM = '10' (bits 3 and 0) with OSLK (bit 1) set.
    state = spec.state(CPSR=SVC)
    assert read(spec, state, "DBGOSLSR") == bits(3, 1)
    write(spec, state, "DBGOSLAR", 0)
    assert read(spec, state, "DBGOSLSR") == bits(3)
    write(spec, state, "DBGOSLAR", 0xC5AC_CE55)
    assert read(spec, state, "DBGOSLSR") == bits(3, 1)


def test_address_translation_writes_par(spec: Spec) -> None:
    # The result is UNKNOWN: two oracle seeds give two values, one seed always the same one.
    values = set()
    for seed in (1, 2):
        state = spec.state(CPSR=SVC, oracle_seed=seed)
        write(spec, state, "ATS1CPR", 0x8000_0000)
        values.add(read(spec, state, "PAR"))
    assert len(values) == 2


def test_the_d_registers(spec: Spec) -> None:
    state = spec.state()
    spec.call("Model.WriteD", 31, 0x0123_4567_89AB_CDEF, state=state)
    assert spec.call("Model.ReadD", 31, state=state) == 0x0123_4567_89AB_CDEF
    with pytest.raises(SpecAssertionError):
        spec.call("Model.ReadD", 32, state=state)


# ---- (c) both semantics agree -----------------------------------------------------------

WORD64 = st.one_of(st.sampled_from([0, 1, U32, 1 << 32, U64, 0xC5AC_CE55]), st.integers(0, U64))


@settings(max_examples=100)
@given(data=st.data(), count=WORD64, registers=system_register_states())
def test_sysreg_read_agrees(spec: Spec, data: st.DataObject, count: int, registers: dict[str, Any]) -> None:
    reg = data.draw(st.integers(0, len(members(spec)) - 1), label="member")
    agree(spec, "Model.SysRegRead", [reg, count], registers)


@settings(max_examples=100)
@given(data=st.data(), value=WORD64, count=WORD64, registers=system_register_states())
def test_sysreg_write_agrees(spec: Spec, data: st.DataObject, value: int, count: int,
                             registers: dict[str, Any]) -> None:
    reg = data.draw(st.integers(0, len(members(spec)) - 1), label="member")
    agree(spec, "Model.SysRegWrite", [reg, value, count], registers)


def test_every_member_agrees(spec: Spec) -> None:
    # Each member once, in a state where every selection is non-trivial: PMSELR names counter 2,
    # CSSELR the level 1 instruction cache, HDCR.HPMN hides counters 4 and 5 from PL1, and the
    # set/clear registers, counters and fault registers hold mixed bits.
    registers = {
        "CPSR": SVC, "PMSELR": 2, "CSSELR": 1, "HDCR": 4, "PMCR": PMCR_ID | 1,
        "PMCNTENSET": 0x8000_0025, "PMOVSR": 0x8000_0012, "PMINTENSET": 0x0000_0009,
        "PMEVCNTR": [U32, 1, 2, 3, 4, 5], "PMEVTYPER": [0, 0, 0x11, 0, 0, 0x08],
        "SCTLR": 0x08C5_0078, "TTBCR": 0x8000_0005, "DFSR": 0x0000_0205, "HCR": 0x0000_01F8,
        "DBGDTRRX": 0x1234_5678, "VPIDR": 0x4100_C0F0, "VMPIDR": 0x8000_0101,
    }
    for index in range(len(members(spec))):
        agree(spec, "Model.SysRegRead", [index, COUNT], registers, seed=index)
        agree(spec, "Model.SysRegWrite", [index, 0x5A5A_5A5A_A5A5_A5A5, COUNT], registers, seed=index)


# ---- (d) every member is classified -----------------------------------------------------


def classes(spec: Spec) -> dict[str, str]:
    state = spec.state()
    return {m: spec.call("Model.SysRegClassOf", m, state=state).removeprefix("SysRegClass_")
            for m in members(spec)}


def attribute(spec: Spec, name: str) -> set[str]:
    state = spec.state()
    return {m for m in members(spec) if spec.call(name, m, state=state)}


def test_every_member_is_classified(spec: Spec) -> None:
    # Model.SysRegClassOf ends in `assert FALSE`: a member without a class raises here.
    found = classes(spec)
    assert set(found) == set(members(spec))
    assert set(found.values()) <= {"Absent", "Operation", "Value", "Storage"}
    assert {m for m, c in found.items() if c == "Absent"} == {"SysReg_None", "SysReg_TRACE"}


def test_has_state_is_storage(spec: Spec) -> None:
    found = classes(spec)
    for m in members(spec):
        assert spec.call("Model.SysRegHasState", m) == (found[m] == "Storage"), m


def test_classes_agree_with_the_trap_chapter(spec: Spec) -> None:
    found = classes(spec)
    operations = {m for m, c in found.items() if c == "Operation"}
    values = {m for m, c in found.items() if c == "Value"}
    write_only = attribute(spec, "Model.SysRegWriteOnly")
    read_only = attribute(spec, "Model.SysRegReadOnly")
    hyp_only = attribute(spec, "Model.SysRegHypOnly")
    # Every write-only member is an operation, and every operation is write-only or Hyp-only
    # (the Hyp TLB maintenance and ATS1H* operations).
    assert write_only <= operations <= write_only | hyp_only
    # Values are the read-only registers whose content no write changes (not CNTFRQ, which
    # Hyp mode writes, nor the two views of storage), and the registers whose writes
    # Cortex-A15 ignores.
    views = {"SysReg_CNTFRQ", "SysReg_DBGOSLSR", "SysReg_DBGDSCRint"}
    ignored = {"SysReg_FPSID", "SysReg_JOSCR", "SysReg_JMCR", "SysReg_L2CTLR", "SysReg_L2ECTLR"}
    assert values == (read_only - views) | ignored


@pytest.mark.parametrize("mode", [SVC, USR, HYP])
def test_every_member_reads_and_writes(spec: Spec, mode: int) -> None:
    # No member reaches the final assertion of Model.SysRegRead32 or Model.SysRegWrite32, and
    # no 32-bit member reads wider than 32 bits. Operations and absent members read as zero.
    found = classes(spec)
    for m in members(spec):
        state = spec.state(CPSR=mode, **FP_ON)
        value = spec.call("Model.SysRegRead", m, COUNT, state=state)
        assert value >> spec.call("Model.SysRegWidth", m) == 0, m
        if found[m] in {"Operation", "Absent"}:
            assert value == 0, m
        spec.call("Model.SysRegWrite", m, U64, COUNT, state=state)


def test_64_bit_members_are_the_mcrr_ones(spec: Spec) -> None:
    # Model.SysRegWidth is 64 exactly for the members an MCRR/MRRC reaches (trap chapter).
    state = spec.state()
    encodings = [(opc1, crm) for opc1 in range(16) for crm in range(16)]
    reached = {spec.call(table, opc1, crm, state=state)
               for table in ("Model.CP15Reg64", "Model.CP14Reg64") for opc1, crm in encodings}
    reached.discard("SysReg_None")
    wide = {m for m in members(spec) if spec.call("Model.SysRegWidth", m, state=state) == 64}
    assert wide == reached


def test_write_to_a_read_only_storage_view_is_ignored(spec: Spec) -> None:
    # DBGOSLSR and DBGDSCRint are never permitted writes; the accessor leaves them alone.
    state = spec.state(CPSR=HYP)
    write(spec, state, "DBGOSLSR", 0)
    write(spec, state, "DBGDSCRint", U64)
    oslsr, dscr = state.DBGOSLSR, state.DBGDSCR
    assert oslsr == bits(3, 1) and dscr == bits(18)
