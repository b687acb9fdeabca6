"""Worked examples of the HSR of every exception class a trap to Hyp mode produces (spec/08).

Expected values are assembled by hand from the field layouts of ARM DDI 0406C.d §B3.13.6:
EC<31:26>, IL<25>, and per class
  MCR/MRC (0x03, 0x05, 0x08): CV<24> COND<23:20> Opc2<19:17> Opc1<16:14> CRn<13:10> Rt<8:5>
                              CRm<4:1> Direction<0>
  MCRR/MRRC (0x04, 0x0C):     CV<24> COND<23:20> Opc1<19:16> Rt2<13:10> Rt<8:5> CRm<4:1> Direction<0>
  LDC/STC (0x06):             CV<24> COND<23:20> imm8<19:12> Rn<8:5> Offset<4> AM<3:1> Direction<0>
  HCPTR (0x07):               CV<24> COND<23:20> TA<5> coproc<3:0>
  WFI/WFE (0x01):             CV<24> COND<23:20> TI<0>
  SVC/HVC (0x11, 0x12):       imm16<15:0>
Where QEMU 7.2 was observed (shared reference, conformance anchors §4.6) the value is noted.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from tests.helpers.a32 import (
    VADD_F64,
    VADD_I32_Q,
    bxj,
    hvc,
    ldc,
    mcr,
    mcrr,
    mrc,
    mrrc,
    smc,
    svc,
    vmrs,
    wfe,
    wfi,
)
from tests.helpers.agreement import agree
from tests.helpers.syndromes import cv, hsr, iss_mcr, iss_mcrr
from tests.strategies import interesting_words

EC_CODES = [0x00, 0x01, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0A, 0x0C, 0x11, 0x12, 0x13]


def syndrome(spec: Spec, ec: int, word: int, advsimd: bool = False, seed: int = 0) -> int:
    instr = spec.call("A32.Decode", word)
    return spec.call("AArch32.HypTrapSyndrome", ec, instr, advsimd, state=spec.state(oracle_seed=seed))


def test_wfi_and_wfe(spec: Spec) -> None:
    assert syndrome(spec, 0x01, wfi()) == hsr(0x01, 1, cv()) == 0x07E00000
    assert syndrome(spec, 0x01, wfe()) == hsr(0x01, 1, cv() | 1) == 0x07E00001
    conditional = {syndrome(spec, 0x01, wfi(cond=0x3), seed=s) for s in range(16)}
    assert conditional == {hsr(0x01, 1, cv(0x3)), hsr(0x01, 1, cv(0xE))}


def test_mrc_cp15_matches_qemu(spec: Spec) -> None:
    # QEMU: HSTR.T1 SCTLR read gave 0x0fe00401.
    expected = hsr(0x03, 1, iss_mcr(crn=1, rt=0, crm=0, read=True))
    assert syndrome(spec, 0x03, mrc(15, 0, 0, 1, 0, 0)) == expected == 0x0FE00401


def test_mcr_cp15_all_fields(spec: Spec) -> None:
    word = mcr(15, 3, 9, 13, 6, 5, cond=0xA)
    expected = hsr(0x03, 1, iss_mcr(opc2=5, opc1=3, crn=13, rt=9, crm=6, read=False, cond=0xA))
    values = {syndrome(spec, 0x03, word, seed=s) for s in range(16)}
    assert values == {expected, expected | 0xE << 20} == {0x0FAAF52C, 0x0FEAF52C}  # COND GE, or AL


def test_mrrc_cp15_matches_qemu(spec: Spec) -> None:
    # QEMU: a PL1 CNTPCT read with CNTHCTL.PL1PCTEN clear gave 0x13e00c5d.
    expected = hsr(0x04, 1, iss_mcrr(opc1=0, rt2=3, rt=2, crm=14, read=True))
    assert syndrome(spec, 0x04, mrrc(15, 0, 2, 3, 14)) == expected == 0x13E00C5D


def test_mcrr_cp15_write(spec: Spec) -> None:
    expected = hsr(0x04, 1, iss_mcrr(opc1=1, rt2=7, rt=6, crm=2, read=False))
    assert syndrome(spec, 0x04, mcrr(15, 1, 6, 7, 2)) == expected == 0x13E11CC4


def test_mrc_cp14(spec: Spec) -> None:
    expected = hsr(0x05, 1, iss_mcr(opc1=7, crn=1, rt=4, crm=0, read=True))
    assert syndrome(spec, 0x05, mrc(14, 7, 4, 1, 0)) == expected == 0x17E1C481


def test_ldc_cp14_addressing_modes(spec: Spec) -> None:
    # LDC p14, c5, [r1, #0x40]: offset form (P=1, W=0), add (U=1): AM = 010.
    word = ldc(14, 5, 1, 0x10)
    expected = hsr(0x06, 1, cv() | 0x10 << 12 | 1 << 5 | 1 << 4 | 0b010 << 1 | 1)
    assert syndrome(spec, 0x06, word) == expected == 0x1BE10035
    # STC p14, c5, [r2], #-4: post-indexed (P=0, W=1), subtract: AM = 001, Direction 0.
    word = ldc(14, 5, 2, 1, p=0, u=0, w=1, load=False)
    assert syndrome(spec, 0x06, word) == hsr(0x06, 1, cv() | 1 << 12 | 2 << 5 | 0b001 << 1)
    # LDC p14, c5, [pc, #8]: literal offset form, AM = 110.
    word = ldc(14, 5, 15, 2)
    assert syndrome(spec, 0x06, word) == hsr(0x06, 1, cv() | 2 << 12 | 15 << 5 | 1 << 4 | 0b110 << 1 | 1)


def test_hcptr_floating_point_matches_qemu(spec: Spec) -> None:
    # QEMU: VMRS FPSCR under HCPTR.TCP10 gave 0x1fe0000a.
    assert syndrome(spec, 0x07, vmrs(0, 1)) == hsr(0x07, 1, cv() | 0xA) == 0x1FE0000A


def test_hcptr_reports_cp10_for_a_cp11_instruction(spec: Spec) -> None:
    """ARMv7 reports coprocessor 0xA for every trapped floating-point use."""
    assert syndrome(spec, 0x07, VADD_F64) == hsr(0x07, 1, cv() | 0xA)


def test_hcptr_advanced_simd_sets_ta(spec: Spec) -> None:
    values = {syndrome(spec, 0x07, VADD_I32_Q, advsimd=True, seed=s) for s in range(8)}
    assert {v & ~0xF for v in values} == {hsr(0x07, 1, cv() | 1 << 5)}  # unconditional: COND = 0xE
    assert len({v & 0xF for v in values}) > 1  # coproc is UNKNOWN


def test_vmrs_id_register_trap(spec: Spec) -> None:
    # VMRS r2, MVFR0: the MRC layout with Opc1 = 7, CRn = 7 (MVFR0), Rt = 2, read.
    expected = hsr(0x08, 1, iss_mcr(opc1=7, crn=7, rt=2, crm=0, read=True))
    assert syndrome(spec, 0x08, vmrs(2, 7)) == expected == 0x23E1DC41


def test_mrrc_cp14(spec: Spec) -> None:
    expected = hsr(0x0C, 1, iss_mcrr(opc1=0, rt2=1, rt=0, crm=1, read=True))
    assert syndrome(spec, 0x0C, mrrc(14, 0, 0, 1, 1)) == expected == 0x33E00403


def test_bxj(spec: Spec) -> None:
    # bxjne r5: CV = 1, COND = NE (0x1) or, as §B3.13.6 permits for an instruction that passed its
    # condition check, AL (0xE); Rm = 5. Both choices occur across oracle seeds.
    values = {syndrome(spec, 0x0A, bxj(5, cond=0x1), seed=s) for s in range(16)}
    assert values == {hsr(0x0A, 1, cv(0x1) | 5), hsr(0x0A, 1, cv(0xE) | 5)} == {0x2B100005, 0x2BE00005}


def test_unconditional_instruction_reports_al(spec: Spec) -> None:
    values = {syndrome(spec, 0x0A, bxj(5), seed=s) for s in range(8)}
    assert values == {hsr(0x0A, 1, cv(0xE) | 5)} == {0x2BE00005}


def test_hvc_matches_qemu(spec: Spec) -> None:
    assert syndrome(spec, 0x12, hvc(0x1234)) == hsr(0x12, 1, 0x1234) == 0x4A001234
    assert syndrome(spec, 0x12, hvc(1)) == 0x4A000001  # QEMU: hvc #1


def test_svc_reports_the_low_16_bits_of_its_immediate(spec: Spec) -> None:
    assert syndrome(spec, 0x11, svc(0xAB1234)) == hsr(0x11, 1, 0x1234) == 0x46001234


def test_conditional_svc_immediate_is_unknown(spec: Spec) -> None:
    values = {syndrome(spec, 0x11, svc(0x1234, cond=0x0), seed=s) for s in range(8)}
    assert {v >> 16 for v in values} == {hsr(0x11, 1, 0) >> 16}
    assert len({v & 0xFFFF for v in values}) > 1


def test_smc_iss_is_zero(spec: Spec) -> None:
    assert syndrome(spec, 0x13, smc(5)) == hsr(0x13, 1, 0) == 0x4E000000


def test_unknown_reason_has_unknown_il(spec: Spec) -> None:
    values = {syndrome(spec, 0x00, 0xE7F000F0, seed=s) for s in range(16)}  # udf #0
    assert values == {0x00000000, 0x02000000}


@pytest.mark.parametrize("cls", ["A32Class_WFI", "A32Class_MCR_MRC", "A32Class_SMC", "A32Class_HVC"])
def test_trap_class_table(spec: Spec, cls: str) -> None:
    words = {"A32Class_WFI": wfi(), "A32Class_MCR_MRC": mrc(14, 0, 0, 0, 1),
             "A32Class_SMC": smc(), "A32Class_HVC": hvc(0)}
    expected = {"A32Class_WFI": 0x01, "A32Class_MCR_MRC": 0x05, "A32Class_SMC": 0x13, "A32Class_HVC": 0x12}
    assert spec.call("Model.TrapClass", spec.call("A32.Decode", words[cls])) == expected[cls]


@settings(max_examples=200)
@given(word=interesting_words(), ec=st.sampled_from(EC_CODES), advsimd=st.booleans(),
       seed=st.integers(0, 3))
def test_syndrome_agrees(spec: Spec, word: int, ec: int, advsimd: bool, seed: int) -> None:
    internal = spec.compiled.function("A32.Decode")(spec.state(), word)
    agree(spec, "AArch32.HypTrapSyndrome", [ec, internal, advsimd], {}, seed)
