"""A small hand assembler for the A32 instructions the trap chapters reason about.

Instruction words are assembled from the encoding diagrams of ARM DDI 0406C.d
(§A8.8, §B9.3, encodings A1), independently of the spec's own encoder, and
cross-checked against words an assembler produces for the same instructions.
Used as fixtures by the encoding, syndrome and trap tests.
"""

from __future__ import annotations

AL = 0xE  # the always condition


def mcr(cp: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, *, read: bool = False,
        cond: int = AL) -> int:
    """MCR/MRC: cond 1110 opc1:3 L CRn Rt coproc opc2:3 1 CRm."""
    return (cond << 28 | 0b1110 << 24 | opc1 << 21 | int(read) << 20 | crn << 16 | rt << 12
            | cp << 8 | opc2 << 5 | 1 << 4 | crm)


def mrc(cp: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, cond: int = AL) -> int:
    return mcr(cp, opc1, rt, crn, crm, opc2, read=True, cond=cond)


def mcrr(cp: int, opc1: int, rt: int, rt2: int, crm: int, *, read: bool = False,
         cond: int = AL) -> int:
    """MCRR/MRRC: cond 1100 010 L Rt2 Rt coproc opc1:4 CRm."""
    return cond << 28 | 0b1100010 << 21 | int(read) << 20 | rt2 << 16 | rt << 12 | cp << 8 | opc1 << 4 | crm


def mrrc(cp: int, opc1: int, rt: int, rt2: int, crm: int, cond: int = AL) -> int:
    return mcrr(cp, opc1, rt, rt2, crm, read=True, cond=cond)


def ldc(cp: int, crd: int, rn: int, imm8: int, *, p: int = 1, u: int = 1, d: int = 0, w: int = 0,
        load: bool = True, cond: int = AL) -> int:
    """LDC/STC: cond 110 P U D W L Rn CRd coproc imm8."""
    return (cond << 28 | 0b110 << 25 | p << 24 | u << 23 | d << 22 | w << 21 | int(load) << 20
            | rn << 16 | crd << 12 | cp << 8 | imm8)


def wfi(cond: int = AL) -> int:
    return cond << 28 | 0x0320F003  # hint space, op2 = 3


def wfe(cond: int = AL) -> int:
    return cond << 28 | 0x0320F002  # op2 = 2


def svc(imm24: int, cond: int = AL) -> int:
    return cond << 28 | 0xF << 24 | imm24


def hvc(imm16: int) -> int:
    """HVC: 1110 0001 0100 imm12 0111 imm4."""
    return 0xE1400070 | (imm16 >> 4) << 8 | (imm16 & 0xF)


def bkpt(imm16: int, cond: int = AL) -> int:
    """BKPT (§A8.8.24): cond 0001 0010 imm12 0111 imm4."""
    return cond << 28 | 0x01200070 | (imm16 >> 4) << 8 | (imm16 & 0xF)


def smc(imm4: int = 0, cond: int = AL) -> int:
    return cond << 28 | 0x01600070 | imm4


def eret(cond: int = AL) -> int:
    return cond << 28 | 0x0160006E


def bxj(rm: int, cond: int = AL) -> int:
    """BXJ: cond 0001 0010 (1111)(1111)(1111) 0010 Rm."""
    return cond << 28 | 0x012FFF20 | rm


def mrs_banked(rd: int, sysm: int, *, spsr: bool = False, cond: int = AL) -> int:
    """MRS (Banked): cond 00010 R 00 M1 Rd (0)(0) 1 M 0000 (0000)."""
    return cond << 28 | 0x01000200 | int(spsr) << 22 | (sysm & 0xF) << 16 | rd << 12 | (sysm >> 4) << 8


def msr_banked(sysm: int, rn: int, *, spsr: bool = False, cond: int = AL) -> int:
    """MSR (Banked): cond 00010 R 10 M1 (1111) (0)(0) 1 M 0000 Rn."""
    return cond << 28 | 0x0120F200 | int(spsr) << 22 | (sysm & 0xF) << 16 | (sysm >> 4) << 8 | rn


def vmrs(rt: int, reg: int, cond: int = AL) -> int:
    """VMRS: cond 1110 1111 reg Rt 1010 0001 0000."""
    return cond << 28 | 0x0EF00A10 | reg << 16 | rt << 12


def vmsr(reg: int, rt: int, cond: int = AL) -> int:
    """VMSR: cond 1110 1110 reg Rt 1010 0001 0000."""
    return cond << 28 | 0x0EE00A10 | reg << 16 | rt << 12


VADD_F64 = 0xEE310B02      # vadd.f64 d0, d1, d2 (CDP space, coprocessor 11)
VADD_I32_Q = 0xF2220844    # vadd.i32 q0, q1, q2 (Advanced SIMD data processing)
VLD1 = 0xF420070F          # vld1.8 {d0}, [r0] (Advanced SIMD element load)
CPSID_I = 0xF10C0080       # cpsid i
MRS_CPSR = 0xE10F0000      # mrs r0, apsr
MRS_SPSR = 0xE14F0000      # mrs r0, spsr
MSR_CPSR_F = 0xE128F000    # msr apsr_nzcvq, r0
MSR_IMM = 0xE328F20F       # msr apsr_nzcvq, #0xf0000000

SYSM_ELR_HYP, SYSM_SP_HYP, SYSM_SP_USR, SYSM_LR_SVC = 0b11110, 0b11111, 0b00101, 0b10010
