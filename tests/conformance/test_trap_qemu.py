"""The trap harness, run on QEMU against outcomes derived from the ARM ARM.

Every expected value below comes from ARM DDI 0406C.d: the instruction encodings (chapter A8),
the trap controls (HCR, HSTR, HCPTR, HDCR, CNTHCTL, CNTKCTL, CPACR, FPEXC in chapter B4), which
exceptions go where (B1.12-B1.14) and the HSR layouts (B3.13.6, "Use of the HSR"):

* HSR = EC[31:26] : IL[25] : ISS[24:0]; IL = 1 for a 32-bit instruction.
* For traps of conditional-capable instructions ISS starts with CV[24] and COND[23:20]; an
  unconditional (AL) instruction reports CV = 1, COND = 0xE.
* MCR/MRC (EC 0x03 cp15, 0x05 cp14, 0x08 cp10 ID registers): Opc2[19:17] Opc1[16:14]
  CRn[13:10] Rt[8:5] CRm[4:1] Direction[0] (1 = read).
* MCRR/MRRC (EC 0x04): Opc1[19:16] Rt2[13:10] Rt[8:5] CRm[4:1] Direction[0].
* WFI/WFE (EC 0x01): TI[0] (1 = WFE).  HCPTR (EC 0x07): TA[5] coproc[3:0].
* HVC (EC 0x12) and SVC (EC 0x11): imm16.

Preferred return addresses (B1.8.3): ELR_hyp = the trapped instruction for a trap or an
UNDEFINED routed to Hyp, the next instruction for HVC and SVC; LR_und = the UNDEFINED instruction
+ 4 (ARM state).  These are checked relative to the address of the instruction under test.

Where QEMU 7.2 is known to differ, a row has a ``qemu`` expectation (what QEMU does, which the
run must match) next to the ``arch`` one, and ``why``; a separate test checks that each such
divergence still exists, so a QEMU upgrade that fixes one shows up.  No test here is skipped
when QEMU or binutils are missing: the run fails with the install hint.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from hypspec.categories.traps.case import (
    DEFAULT_REGISTERS,
    TRAP_SCRATCH_BASE,
    TrapCase,
    TrapObservation,
    effective_registers,
    instruction_class,
    validate,
)
from hypspec.categories.traps.image import GUEST_VECTORS, assign_snippets, emit_trap_elf
from hypspec.categories.traps.qemu import bench_traps, parse_output, run_traps
from hypspec.conformance.errors import ConformanceInputError, HarnessRunError
from hypspec.conformance.toolchain import find_toolchain
from tests.helpers.hung import assert_hung_image_kept

# --- Encodings (ARM DDI 0406C.d, A8.8) -----------------------------------------------------------

AL = 0xE


def mcr(coproc: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, *, cond: int = AL) -> int:
    """MCR A1: cond 1110 opc1:3 0 CRn Rt coproc opc2:3 1 CRm."""
    return (
        cond << 28 | 0b1110 << 24 | opc1 << 21 | crn << 16 | rt << 12 | coproc << 8 | opc2 << 5 | 1 << 4 | crm
    )


def mrc(coproc: int, opc1: int, rt: int, crn: int, crm: int, opc2: int = 0, *, cond: int = AL) -> int:
    """MRC A1: as MCR with L (bit 20) = 1."""
    return mcr(coproc, opc1, rt, crn, crm, opc2, cond=cond) | 1 << 20


def mcrr(coproc: int, opc1: int, rt: int, rt2: int, crm: int) -> int:
    """MCRR A1: cond 1100 0100 Rt2 Rt coproc opc1:4 CRm."""
    return AL << 28 | 0b1100_0100 << 20 | rt2 << 16 | rt << 12 | coproc << 8 | opc1 << 4 | crm


def mrrc(coproc: int, opc1: int, rt: int, rt2: int, crm: int) -> int:
    """MRRC A1: as MCRR with L (bit 20) = 1."""
    return mcrr(coproc, opc1, rt, rt2, crm) | 1 << 20


def imm16_form(base: int, imm: int) -> int:
    """HVC/BKPT/UDF A1 split their 16-bit immediate as imm12 (bits 19:8) and imm4 (bits 3:0)."""
    return base | (imm >> 4) << 8 | (imm & 0xF)


def hvc(imm: int) -> int:
    return imm16_form(0xE140_0070, imm)  # cond 0001 0100 imm12 0111 imm4


def svc(imm: int) -> int:
    return 0xEF00_0000 | imm  # cond 1111 imm24


def vmrs(rt: int, reg: int) -> int:
    """VMRS A1: cond 1110 1111 reg Rt 1010 0001 0000 (reg: FPSID 0, FPSCR 1, MVFR0 7, FPEXC 8)."""
    return 0xEEF0_0A10 | reg << 16 | rt << 12


def vmsr(reg: int, rt: int) -> int:
    """VMSR A1: cond 1110 1110 reg Rt 1010 0001 0000."""
    return 0xEEE0_0A10 | reg << 16 | rt << 12


WFI = 0xE320_F003  # hint: cond 0011 0010 0000 1111 0000 0000 0011
WFE = 0xE320_F002
NOP = 0xE320_F000
SMC_0 = 0xE160_0070  # cond 0001 0110 0000 0000 0000 0111 imm4
ERET = 0xE160_006E  # cond 0001 0110 0000 0000 0000 0110 1110
UDF_0 = 0xE7F0_00F0  # cond 0111 1111 imm12 1111 imm4
BKPT_0 = 0xE120_0070  # cond 0001 0010 imm12 0111 imm4
MRS_R0_CPSR = 0xE10F_0000  # cond 0001 0000 1111 Rd 0000 0000 0000
MOV_R1_5 = 0xE3A0_1005  # mov r1, #5: cond 0011 1010 0000 Rd imm12


def cps_mode(mode: int) -> int:
    """CPS #mode A1: 1111 0001 0000 imod:2 M 0 0000 000 A I F 0 mode (imod 00, M = 1)."""
    return 0xF102_0000 | mode


CPSIE_I = 0xF108_0080  # imod = 10 (enable), I = 1

FPSID, FPSCR, MVFR0, FPEXC = 0, 1, 7, 8
USR, FIQ, SYS = 0x10, 0x11, 0x1F

# --- Syndromes (ARM DDI 0406C.d, B3.13.6) ---------------------------------------------------------

IL = 1 << 25
NO_IL = 0xFFFF_FFFF & ~IL  # IL is UNK/SBZP for EC 0x00 and for aborts without a syndrome
EC_UNKNOWN, EC_WFX, EC_CP15, EC_CP15_64, EC_CP14, EC_HCPTR, EC_CP10_ID = (
    0x00,
    0x01,
    0x03,
    0x04,
    0x05,
    0x07,
    0x08,
)
EC_SVC, EC_HVC, EC_SMC, EC_PABT = 0x11, 0x12, 0x13, 0x20


def syndrome(ec: int, iss: int, *, il: bool = True) -> int:
    return ec << 26 | (IL if il else 0) | iss


def cv(cond: int = AL) -> int:
    """CV = 1 and COND = the instruction's condition."""
    return 1 << 24 | cond << 20


def iss_mcr(opc1: int, crn: int, crm: int, opc2: int, rt: int, *, read: bool, cond: int = AL) -> int:
    return cv(cond) | opc2 << 17 | opc1 << 14 | crn << 10 | rt << 5 | crm << 1 | int(read)


def iss_mcrr(opc1: int, crm: int, rt: int, rt2: int, *, read: bool) -> int:
    return cv() | opc1 << 16 | rt2 << 10 | rt << 5 | crm << 1 | int(read)


HCR_TWI, HCR_TWE, HCR_TID0, HCR_TID1, HCR_TID2, HCR_TID3 = (1 << n for n in (13, 14, 15, 16, 17, 18))
HCR_TSC, HCR_TIDCP, HCR_TAC, HCR_TSW, HCR_TPC, HCR_TPU = (1 << n for n in (19, 20, 21, 22, 23, 24))
HCR_TTLB, HCR_TVM, HCR_TGE, HCR_VI = 1 << 25, 1 << 26, 1 << 27, 1 << 7
HDCR_TPMCR, HDCR_TPM, HDCR_TDE, HDCR_TDA = 1 << 5, 1 << 6, 1 << 8, 1 << 9
HCPTR_TCP10_11 = 1 << 10 | 1 << 11  # the ARM ARM requires TCP10 and TCP11 to be equal
HCPTR_TCPAC = 1 << 31
CNTHCTL_PL1PCTEN, CNTHCTL_PL1PCEN = 1 << 0, 1 << 1
CNTKCTL_PL0PCTEN, CNTKCTL_PL0VCTEN = 1 << 0, 1 << 1

#: A SCTLR value safe to write: the ARMv7 RES1/SBOP bits 23, 22, 18, 16, 6:3 and nothing else.
SAFE_SCTLR = 1 << 23 | 1 << 22 | 1 << 18 | 1 << 16 | 0b1111 << 3

# --- The table ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """The architecturally fixed part of an observation; None fields are not checked.

    ``outcome`` and ``hsr`` may list several acceptable values where the architecture leaves a
    choice.  ``elr`` is relative to the instruction under test.  ``gprs`` maps a register to
    (value, mask).
    """

    outcome: str | tuple[str, ...]
    hsr: int | tuple[int, ...] | None = None
    hsr_mask: int = 0xFFFF_FFFF
    elr: int | None = None
    gprs: dict[int, tuple[int, int]] = field(default_factory=dict)
    detail: str | None = None


@dataclass(frozen=True)
class Row:
    case: TrapCase
    arch: Expect
    qemu: Expect | None = None  # QEMU 7.2's behaviour where it differs from `arch`
    why: str = ""


ROWS: list[Row] = []


def row(
    case_id: str,
    mode: str,
    instruction: int,
    arch: Expect,
    *,
    registers: dict[str, int] | None = None,
    gprs: dict[int, int] | None = None,
    qemu: Expect | None = None,
    why: str = "",
) -> None:
    case = TrapCase(case_id, mode, instruction, dict(registers or {}), dict(gprs or {}))  # type: ignore[arg-type]
    ROWS.append(Row(case, arch, qemu, why))


def trapped(hsr: int | tuple[int, ...], *, elr: int = 0, mask: int = 0xFFFF_FFFF) -> Expect:
    return Expect("hyp_trap", hsr=hsr, hsr_mask=mask, elr=elr)


def executed(**gprs: tuple[int, int]) -> Expect:
    return Expect("executed", gprs={int(name[1:]): value for name, value in gprs.items()})


UNDEFINED = Expect("undefined", elr=4)
EXACT = 0xFFFF_FFFF

# HVC: EC 0x12, imm16 in ISS; ELR_hyp = the next instruction.  HVC is UNDEFINED at PL0.
row("hvc #0x1234 from svc", "svc", hvc(0x1234), trapped(0x4A00_1234, elr=4))
row("hvc #0 from svc", "svc", hvc(0), trapped(syndrome(EC_HVC, 0), elr=4))
row("hvc from usr is undefined", "usr", hvc(0x1234), UNDEFINED)
row(
    "hvc from usr with TGE: undefined to Hyp",
    "usr",
    hvc(1),
    trapped(syndrome(EC_UNKNOWN, 0), mask=NO_IL),
    registers={"HCR": HCR_TGE},
)

# WFI/WFE: EC 0x01, CV = 1, COND = 0xE, TI = 0 for WFI, 1 for WFE; ELR = the instruction.
WFI_HSR = syndrome(EC_WFX, cv())  # 0x07e00000
row("wfi with TWI from svc", "svc", WFI, trapped(WFI_HSR), registers={"HCR": HCR_TWI})
row("wfi with TWI from usr", "usr", WFI, trapped(WFI_HSR), registers={"HCR": HCR_TWI})
row("wfi without TWI executes", "svc", WFI, executed())
row("wfi without TWI executes in usr", "usr", WFI, executed())
row(
    "wfi with TWI, condition fails",
    "svc",
    0x0320_F003,
    Expect(("executed", "hyp_trap")),
    registers={"HCR": HCR_TWI},
)
# A WFE with the Event Register clear (the guest prologue's `sev; wfe` cleared it) may wait, and
# then HCR.TWE traps it (0x07e00001), or complete at once: a WFE may complete at any time (the
# ARMv8 ARM's HCR.TWE text), so both are permitted.  QEMU 7.2 completes it (WFE is a yield).
row(
    "wfe with TWE",
    "svc",
    WFE,
    Expect(("hyp_trap", "executed"), hsr=syndrome(EC_WFX, cv() | 1)),
    registers={"HCR": HCR_TWE},
)
row("wfe without TWE executes", "svc", WFE, executed())

# CP15 traps, EC 0x03.  HSTR.Tn traps PL1 accesses to primary register c<n>.
SCTLR_READ = syndrome(EC_CP15, iss_mcr(0, 1, 0, 0, 0, read=True))  # 0x0fe00401
row("mrc SCTLR with HSTR.T1", "svc", mrc(15, 0, 0, 1, 0), trapped(SCTLR_READ), registers={"HSTR": 1 << 1})
row(
    "mrc SCTLR r7 with HSTR.T1",
    "svc",
    mrc(15, 0, 7, 1, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 1, 0, 0, 7, read=True))),
    registers={"HSTR": 1 << 1},
)
row(
    "mrc CBAR with HSTR.T15",
    "svc",
    mrc(15, 4, 0, 15, 0),
    trapped(syndrome(EC_CP15, iss_mcr(4, 15, 0, 0, 0, read=True))),
    registers={"HSTR": 1 << 15},
)
row(
    "mrc SCTLR with HSTR.T2 is not trapped",
    "svc",
    mrc(15, 0, 0, 1, 0),
    executed(),
    registers={"HSTR": 1 << 2},
)
# A conditional instruction that passes its check: COND is the instruction's condition or, for an
# implementation that traps only instructions that pass, may be 0xE (B3.13.6, "COND").
row(
    "mrc SCTLR NE with HSTR.T1 (passes)",
    "svc",
    mrc(15, 0, 0, 1, 0, cond=0x1),
    trapped((syndrome(EC_CP15, iss_mcr(0, 1, 0, 0, 0, read=True, cond=0x1)), SCTLR_READ)),
    registers={"HSTR": 1 << 1},
)
# One that fails (flags are 0, so EQ fails): IMPLEMENTATION DEFINED whether it traps.
row(
    "mrc SCTLR EQ with HSTR.T1 (fails)",
    "svc",
    mrc(15, 0, 0, 1, 0, cond=0x0),
    Expect(("executed", "hyp_trap")),
    registers={"HSTR": 1 << 1},
)

# HCR.TVM traps writes to the virtual memory control registers.
row(
    "mcr SCTLR r1 with TVM",
    "svc",
    mcr(15, 0, 1, 1, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 1, 0, 0, 1, read=False))),  # 0x0fe00420
    registers={"HCR": HCR_TVM},
    gprs={1: SAFE_SCTLR},
)
row(
    "mcr TTBR0 with TVM",
    "svc",
    mcr(15, 0, 0, 2, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 2, 0, 0, 0, read=False))),
    registers={"HCR": HCR_TVM},
)
row(
    "mcrr TTBR0 with TVM",
    "svc",
    mcrr(15, 0, 0, 1, 2),
    trapped(syndrome(EC_CP15_64, iss_mcrr(0, 2, 0, 1, read=False))),
    registers={"HCR": HCR_TVM},
)
row("mrc SCTLR with TVM is not trapped", "svc", mrc(15, 0, 0, 1, 0), executed(), registers={"HCR": HCR_TVM})

# Other HCR trap bits.
row(
    "mrc ACTLR with TAC",
    "svc",
    mrc(15, 0, 0, 1, 0, 1),
    trapped(syndrome(EC_CP15, iss_mcr(0, 1, 0, 1, 0, read=True))),
    registers={"HCR": HCR_TAC},
)
row(
    "mcr TLBIALL with TTLB",
    "svc",
    mcr(15, 0, 0, 8, 7, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 8, 7, 0, 0, read=False))),
    registers={"HCR": HCR_TTLB},
)
row(
    "mrc CTR with TID2",
    "svc",
    mrc(15, 0, 0, 0, 0, 1),
    trapped(syndrome(EC_CP15, iss_mcr(0, 0, 0, 1, 0, read=True))),
    registers={"HCR": HCR_TID2},
)
row(
    "vmrs FPSID with TID0",
    "svc",
    vmrs(0, FPSID),
    trapped(syndrome(EC_CP10_ID, iss_mcr(7, FPSID, 0, 0, 0, read=True))),  # 0x23e1c001
    registers={"HCR": HCR_TID0},
)
row(
    "vmrs MVFR0 with TID3",
    "svc",
    vmrs(0, MVFR0),
    trapped(syndrome(EC_CP10_ID, iss_mcr(7, MVFR0, 0, 0, 0, read=True))),  # 0x23e1dc01
    registers={"HCR": HCR_TID3},
)
row(
    "mrc ID_PFR0 with TID3",
    "svc",
    mrc(15, 0, 0, 0, 1, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 0, 1, 0, 0, read=True))),
    registers={"HCR": HCR_TID3},
    qemu=executed(),
    why="QEMU 7.2 checks HCR.TID3 for AArch32 ID registers only on ARMv8 CPUs",
)
row(
    "mrc TLBTR with TID1",
    "svc",
    mrc(15, 0, 0, 0, 0, 3),
    trapped(syndrome(EC_CP15, iss_mcr(0, 0, 0, 3, 0, read=True))),
    registers={"HCR": HCR_TID1},
    qemu=executed(),
    why="QEMU 7.2's ARMv7 TLBTR has no HCR.TID1 check",
)
row(
    "mrc c15 with TIDCP",
    "svc",
    mrc(15, 4, 0, 15, 0),
    trapped(syndrome(EC_CP15, iss_mcr(4, 15, 0, 0, 0, read=True))),
    registers={"HCR": HCR_TIDCP},
    qemu=executed(),
    why="QEMU 7.2 does not implement HCR.TIDCP",
)
for label, bit, (crm, opc2) in (
    ("DCISW with TSW", HCR_TSW, (6, 2)),
    ("DCCIMVAC with TPC", HCR_TPC, (14, 1)),
    ("ICIALLU with TPU", HCR_TPU, (5, 0)),
):
    row(
        f"mcr {label}",
        "svc",
        mcr(15, 0, 0, 7, crm, opc2),
        trapped(syndrome(EC_CP15, iss_mcr(0, 7, crm, opc2, 0, read=False))),
        registers={"HCR": bit},
        qemu=executed(),
        why="QEMU 7.2 implements ARMv7 c7 cache maintenance as one catch-all NOP with no trap checks",
    )

# HDCR.
row(
    "mrc PMCCNTR with TPM",
    "svc",
    mrc(15, 0, 0, 9, 13, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 9, 13, 0, 0, read=True))),
    registers={"HDCR": HDCR_TPM},
)
row(
    "mrc PMCR with TPMCR",
    "svc",
    mrc(15, 0, 0, 9, 12, 0),
    trapped(syndrome(EC_CP15, iss_mcr(0, 9, 12, 0, 0, read=True))),
    registers={"HDCR": HDCR_TPMCR},
    qemu=executed(),
    why="QEMU 7.2 does not implement HDCR.TPMCR",
)
row(
    "mrc DBGDSCRint with TDA",
    "svc",
    mrc(14, 0, 0, 0, 1, 0),
    trapped(syndrome(EC_CP14, iss_mcr(0, 0, 1, 0, 0, read=True))),
    registers={"HDCR": HDCR_TDA},
)
# BKPT is a debug event: a Prefetch Abort at PL1 (IFSR.FS = 0b00010), or to Hyp with HDCR.TDE
# (EC 0x20, IFSC = 0b100010 "debug event" in the long-descriptor encoding); IL is UNK/SBZP there.
row("bkpt from svc", "svc", BKPT_0, Expect("other", detail="guest prefetch_abort vector"))
row(
    "bkpt with TDE",
    "svc",
    BKPT_0,
    trapped(syndrome(EC_PABT, 0b100010), mask=NO_IL),
    registers={"HDCR": HDCR_TDE},
)

# HCPTR and the FP enables.  VMRS FPSCR is a cp10 access: EC 0x07, TA = 0, coproc = 0xA.
VFP_TRAP = syndrome(EC_HCPTR, cv() | 0xA)  # 0x1fe0000a
row(
    "vmrs FPSCR with HCPTR.TCP10/11",
    "svc",
    vmrs(0, FPSCR),
    trapped(VFP_TRAP),
    registers={"HCPTR": HCPTR_TCP10_11},
)
row(
    "vmrs FPSCR with HCPTR from usr",
    "usr",
    vmrs(0, FPSCR),
    trapped(VFP_TRAP),
    registers={"HCPTR": HCPTR_TCP10_11},
)
row("vmrs FPSCR executes", "svc", vmrs(0, FPSCR), executed(r0=(0, EXACT)))  # the harness zeroes FPSCR
row("vmrs FPSCR executes in usr", "usr", vmrs(0, FPSCR), executed(r0=(0, EXACT)))
# CPACR denies PL1 access: Undefined at PL1, which takes priority over the HCPTR trap.
row(
    "vmrs FPSCR with CPACR cp10 off and HCPTR",
    "svc",
    vmrs(0, FPSCR),
    UNDEFINED,
    registers={"CPACR": 0, "HCPTR": HCPTR_TCP10_11},
)
row("vmrs FPSCR with FPEXC.EN=0", "svc", vmrs(0, FPSCR), UNDEFINED, registers={"FPEXC": 0})
row("vmrs FPEXC with FPEXC.EN=0", "svc", vmrs(0, FPEXC), executed(r0=(0, 1 << 30)), registers={"FPEXC": 0})
row("vmrs FPSID from usr is undefined", "usr", vmrs(0, FPSID), UNDEFINED)
# LDC p9, c0, [r7, #-0x198] (cond 1101 110 P=1 U=0 D=0 W=0 L=1, coproc 9): coprocessor 9 is
# reserved in ARMv7 and its CPACR field reads as zero, so it is UNDEFINED (§A5.6, §B4.1 CPACR).
# ARMv8.2's FEAT_FP16 later gave this encoding to VLDR (half-precision); QEMU 7.2's
# trans_VLDR_VSTR_hp() checks only for VFPv2, so Cortex-A15 executes it as a halfword load.
row(
    "ldc p9 (the later VLDR.16 encoding) is undefined",
    "svc",
    0xED17_0966,
    UNDEFINED,
    gprs={7: TRAP_SCRATCH_BASE + 0x1000},
    qemu=executed(),
    why="QEMU 7.2 decodes coprocessor 9 LDC as the ARMv8.2 VLDR.16 on any VFPv2 CPU (translate-vfp.c.inc)",
)
row(
    "mrc CPACR with HCPTR.TCPAC",
    "svc",
    mrc(15, 0, 0, 1, 0, 2),
    trapped(syndrome(EC_CP15, iss_mcr(0, 1, 0, 2, 0, read=True))),
    registers={"HCPTR": HCPTR_TCPAC},
    qemu=executed(r0=(0x00F0_0000, EXACT)),
    why="QEMU 7.2 checks HCPTR.TCPAC only on ARMv8 CPUs",
)

# Generic timer.  MRRC p15, 0, r2, r3, c14 reads CNTPCT; p15, 1 CNTVCT.
CNTPCT_TRAP = syndrome(EC_CP15_64, iss_mcrr(0, 14, 2, 3, read=True))  # 0x13e00c5d
row(
    "mrrc CNTPCT at PL1 with PL1PCTEN=0",
    "svc",
    mrrc(15, 0, 2, 3, 14),
    trapped(CNTPCT_TRAP),
    registers={"CNTHCTL": CNTHCTL_PL1PCEN},
)
row("mrrc CNTPCT at PL1 executes", "svc", mrrc(15, 0, 2, 3, 14), executed())
row(
    "mrc CNTP_CTL at PL1 with PL1PCEN=0",
    "svc",
    mrc(15, 0, 0, 14, 2, 1),
    trapped(syndrome(EC_CP15, iss_mcr(0, 14, 2, 1, 0, read=True))),
    registers={"CNTHCTL": CNTHCTL_PL1PCTEN},
)
row("mrrc CNTVCT at PL0 with PL0VCTEN=0 is undefined", "usr", mrrc(15, 1, 2, 3, 14), UNDEFINED)
row(
    "mrrc CNTVCT at PL0 with PL0VCTEN=1",
    "usr",
    mrrc(15, 1, 2, 3, 14),
    executed(),
    registers={"CNTKCTL": CNTKCTL_PL0VCTEN},
)
row(
    "mrrc CNTPCT at PL0, PL0PCTEN=1, CNTHCTL=0",
    "usr",
    mrrc(15, 0, 2, 3, 14),
    trapped(CNTPCT_TRAP),
    registers={"CNTHCTL": 0, "CNTKCTL": CNTKCTL_PL0PCTEN},
)
row(
    "mrrc CNTPCT at PL0, PL0PCTEN=1, PL1PCTEN=0, PL1PCEN=1",
    "usr",
    mrrc(15, 0, 2, 3, 14),
    trapped(CNTPCT_TRAP),
    registers={"CNTHCTL": CNTHCTL_PL1PCEN, "CNTKCTL": CNTKCTL_PL0PCTEN},
    qemu=executed(),
    why="QEMU 7.2 gates PL0 CNTPCT on CNTHCTL bit 1 instead of bit 0 (fixed upstream in d01448c)",
)

# Hyp registers are UNDEFINED at PL1; PL1 registers at PL0.
row("mrc HCR from svc is undefined", "svc", mrc(15, 4, 0, 1, 1, 0), UNDEFINED)
row("mcr HCR from svc is undefined", "svc", mcr(15, 4, 0, 1, 1, 0), UNDEFINED)
row("mrc MIDR from usr is undefined", "usr", mrc(15, 0, 0, 0, 0, 0), UNDEFINED)
# MIDR is IMPLEMENTATION DEFINED; 0x414fc0f0 is what QEMU's Cortex-A15 reports (shared facts).
row("mrc MIDR", "svc", mrc(15, 0, 0, 0, 0, 0), executed(r0=(0x414F_C0F0, EXACT)))
row(
    "mrc MIDR into r5",
    "svc",
    mrc(15, 0, 5, 0, 0, 0),
    executed(r5=(0x414F_C0F0, EXACT), r0=(0, EXACT)),
    gprs={5: 0xDEAD_BEEF},
)

# SMC.  Without the Security Extensions (ID_PFR1.Security = 0 here) SMC is UNDEFINED.
row(
    "smc with TSC",
    "svc",
    SMC_0,
    UNDEFINED,
    registers={"HCR": HCR_TSC},
    qemu=trapped(syndrome(EC_SMC, 0)),  # 0x4e000000
    why="QEMU traps SMC to Hyp under HCR.TSC (EC 0x13, ISS 0) though there is no EL3",
)
row(
    "smc without TSC",
    "svc",
    SMC_0,
    UNDEFINED,
    qemu=executed(r0=(0xFFFF_FFFF, EXACT)),
    why="QEMU's virt board handles every PL1 SMC as a PSCI call: r0 = 0 returns NOT_SUPPORTED (-1)",
)
row("smc from usr is undefined", "usr", SMC_0, UNDEFINED, registers={"HCR": HCR_TSC})

# UNDEFINED instructions; with HCR.TGE from PL0 they go to Hyp with EC 0 (IL is UNK there).
row("udf from svc", "svc", UDF_0, UNDEFINED)
row("udf from usr", "usr", UDF_0, UNDEFINED)
row(
    "udf from usr with TGE",
    "usr",
    UDF_0,
    trapped(syndrome(EC_UNKNOWN, 0), mask=NO_IL),
    registers={"HCR": HCR_TGE},
)
row("nop from usr with TGE", "usr", NOP, executed(), registers={"HCR": HCR_TGE})
row(
    "svc #0x42 from usr with TGE",
    "usr",
    svc(0x42),
    trapped(syndrome(EC_SVC, 0x42), elr=4),
    registers={"HCR": HCR_TGE},
)
row("svc from svc goes to the guest", "svc", svc(1), Expect("other", detail="guest supervisor_call vector"))
row("svc from usr goes to the guest", "usr", svc(1), Expect("other", detail="guest supervisor_call vector"))

# Executed instructions and the state the harness defines for them.
row("mov r1, #5", "svc", MOV_R1_5, executed(r1=(5, EXACT)), gprs={1: 7, 2: 9})
row("mrs r0, cpsr in svc", "svc", MRS_R0_CPSR, executed(r0=(0x1D3, EXACT)))
# In User mode MRS reads the APSR: only N, Z, C, V, Q and GE are defined (all 0 on entry).
row("mrs r0, cpsr in usr", "usr", MRS_R0_CPSR, executed(r0=(0, 0xF80F_0000)))
row("eret at PL1 returns to LR_svc", "svc", ERET, executed())
row("cps #usr from svc", "svc", cps_mode(USR), Expect("executed", detail="left the guest in usr mode"))
row("cps #sys from svc", "svc", cps_mode(SYS), Expect("executed", detail="left the guest in sys mode"))
row("cps #fiq from svc", "svc", cps_mode(FIQ), Expect("executed", detail="left the guest in fiq mode"))
row(
    "cpsie i with HCR.VI: virtual IRQ",
    "svc",
    CPSIE_I,
    Expect("other", detail="guest irq vector"),
    registers={"HCR": HCR_VI},
)


def _ids_unique() -> None:
    ids = [r.case.id for r in ROWS]
    assert len(ids) == len(set(ids)), "duplicate case id in the test table"


_ids_unique()


def _matches(expect: Expect, got: TrapObservation, address: int) -> list[str]:
    """Mismatches between ``got`` and ``expect`` (empty if it matches)."""
    problems = []
    outcomes = expect.outcome if isinstance(expect.outcome, tuple) else (expect.outcome,)
    if got.outcome not in outcomes:
        problems.append(f"outcome {got.outcome!r} not in {outcomes}")
        return problems
    if expect.hsr is not None and got.outcome == "hyp_trap":
        wanted = expect.hsr if isinstance(expect.hsr, tuple) else (expect.hsr,)
        masked = {w & expect.hsr_mask for w in wanted}
        if got.hsr is None or got.hsr & expect.hsr_mask not in masked:
            shown = ", ".join(f"{w:#010x}" for w in wanted)
            problems.append(f"hsr {got.hsr!r:} is not one of {shown} under mask {expect.hsr_mask:#x}")
    has_elr = got.outcome in ("hyp_trap", "undefined")
    if expect.elr is not None and has_elr and got.elr != address + expect.elr:
        problems.append(f"elr {got.elr!r} != instruction address + {expect.elr}")
    for number, (value, mask) in expect.gprs.items():
        actual = (got.gprs_after or {}).get(number)
        if actual is None or actual & mask != value & mask:
            problems.append(f"r{number} = {actual!r}, expected {value:#x} under {mask:#x}")
    if expect.detail is not None and expect.detail not in got.detail:
        problems.append(f"detail {got.detail!r} lacks {expect.detail!r}")
    return problems


@pytest.fixture(scope="module")
def observations() -> dict[str, tuple[TrapObservation, int]]:
    cases = [r.case for r in ROWS]
    # Small batches: the table spans several images run two at a time, which also checks that
    # results come back to the right case ids.
    results = run_traps(cases, batch=25, jobs=2)
    assert [r.id for r in results] == [c.id for c in cases]
    addresses: dict[str, int] = {}
    for start in range(0, len(cases), 25):
        chunk = cases[start : start + 25]
        for case, snippet in zip(chunk, assign_snippets(chunk), strict=True):
            addresses[case.id] = snippet.address
    return {r.id: (r, addresses[r.id]) for r in results}


@pytest.mark.parametrize("entry", ROWS, ids=[r.case.id for r in ROWS])
def test_hand_case(entry: Row, observations: dict[str, tuple[TrapObservation, int]]) -> None:
    got, address = observations[entry.case.id]
    expect = entry.qemu or entry.arch
    problems = _matches(expect, got, address)
    assert not problems, f"{got}: {problems}"


DIVERGENT = [r for r in ROWS if r.qemu is not None]


@pytest.mark.parametrize("entry", DIVERGENT, ids=[r.case.id for r in DIVERGENT])
def test_known_qemu_divergence_persists(
    entry: Row, observations: dict[str, tuple[TrapObservation, int]]
) -> None:
    """If this fails, QEMU now follows the architecture: drop the row's ``qemu`` override."""
    got, address = observations[entry.case.id]
    assert entry.why
    assert _matches(entry.arch, got, address), f"QEMU now matches the ARM ARM: {got}"


def test_hsr_anchor_values() -> None:
    """The syndrome builders reproduce the values quoted in the brief from the field layouts."""
    assert syndrome(EC_HVC, 0x1234) == 0x4A00_1234
    assert WFI_HSR == 0x07E0_0000
    assert SCTLR_READ == 0x0FE0_0401
    assert VFP_TRAP == 0x1FE0_000A
    assert CNTPCT_TRAP == 0x13E0_0C5D


# --- State the harness restores between cases (one image, in order) ------------------------------


def test_state_is_restored_between_cases() -> None:
    """An instruction that executed in one case must not leak into the next."""
    sctlr_read = mrc(15, 0, 0, 1, 0)
    cases = [
        TrapCase("read SCTLR", "svc", sctlr_read, {}),
        TrapCase("write SCTLR", "svc", mcr(15, 0, 1, 1, 0), {}, {1: SAFE_SCTLR | 1 << 1}),
        TrapCase("read SCTLR again", "svc", sctlr_read, {}),
        TrapCase("write VBAR", "svc", mcr(15, 0, 1, 12, 0), {}, {1: 0x1000}),
        TrapCase("udf after VBAR write", "svc", UDF_0, {}),
        TrapCase("write FPSCR", "svc", vmsr(FPSCR, 0), {}, {0: 0x03C0_0000}),
        TrapCase("read FPSCR", "svc", vmrs(0, FPSCR), {}),
        TrapCase("write TPIDRURW", "svc", mcr(15, 0, 0, 13, 0, 2), {}, {0: 0x1234_5678}),
        TrapCase("read TPIDRURW", "svc", mrc(15, 0, 0, 13, 0, 2), {}),
        TrapCase("cps #usr", "svc", cps_mode(USR), {}),
        TrapCase("mrs cpsr after cps", "svc", MRS_R0_CPSR, {}),
    ]
    got = {o.id: o for o in run_traps(cases, batch=len(cases))}
    assert all(o.outcome == "executed" for o in got.values() if o.id != "udf after VBAR write"), got
    before = got["read SCTLR"].gprs_after
    after = got["read SCTLR again"].gprs_after
    assert before is not None and after is not None and before[0] == after[0]
    assert before[0] & (1 << 1) == 0  # the write set A; the restored value has it clear
    assert got["udf after VBAR write"].outcome == "undefined"
    assert got["read FPSCR"].gprs_after == dict.fromkeys(range(13), 0)
    assert got["read TPIDRURW"].gprs_after == dict.fromkeys(range(13), 0)
    assert got["mrs cpsr after cps"].gprs_after is not None
    assert got["mrs cpsr after cps"].gprs_after[0] == 0x1D3


def test_initial_registers_reach_the_guest() -> None:
    """r0-r12 come from the case; registers an instruction does not write come back unchanged."""
    values = {n: 0x1111_1111 * (n % 15 + 1) & 0xFFFF_FFFF for n in range(13)}
    [got] = run_traps([TrapCase("nop", "svc", NOP, {}, values)])
    assert got.outcome == "executed" and got.gprs_after == values


# --- Throughput ----------------------------------------------------------------------------------


def test_throughput_of_mixed_cases(capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_traps(1000)
    with capsys.disabled():
        print(f"\n{result}")
    assert result.outcomes.get("no_report", 0) == 0
    assert sum(result.outcomes.values()) == 1000


# --- Without QEMU: validation, classification, parsing -------------------------------------------


def _case(**changes: object) -> TrapCase:
    fields: dict[str, object] = {"id": "v", "mode": "svc", "instruction": NOP, "registers": {}}
    fields.update(changes)
    return TrapCase(**fields)  # type: ignore[arg-type]


def test_valid_cases_pass() -> None:
    validate(_case())
    validate(_case(instruction=mcr(15, 0, 1, 1, 0), gprs={1: SAFE_SCTLR}))
    validate(_case(instruction=0xED80_0B00, gprs={0: TRAP_SCRATCH_BASE + 0x1000}))  # vstr d0, [r0]
    validate(_case(instruction=0xED9F_0B02))  # vldr d0, [pc, #8]: a literal load
    validate(_case(instruction=SMC_0, gprs={0: 0x1234}))
    validate(_case(mode="usr", registers={"HCR": HCR_TGE}))
    validate(_case(registers=dict.fromkeys(DEFAULT_REGISTERS, 0)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"mode": "hyp"}, "mode must be"),
        ({"instruction": 1 << 32}, "32-bit word"),
        ({"registers": {"VTCR": 0}}, "unknown register"),
        ({"registers": {"HCR": 1 << 32}}, "not a 32-bit value"),
        ({"gprs": {13: 0}}, "0..12"),
        ({"registers": {"HCR": 1}}, "VM or DC"),
        ({"registers": {"HCR": 1 << 12}}, "VM or DC"),
        ({"registers": {"HCR": 1 << 29}}, "bits [31:28]"),
        ({"registers": {"HCR": HCR_TGE}}, "HCR.TGE = 1 with mode 'svc'"),
        ({"instruction": 0xE591_0000}, "load/store"),  # ldr r0, [r1]
        ({"instruction": 0xEAFF_FFFE}, "b/bl"),  # b .
        ({"instruction": 0xE8BD_8000}, "ldm/stm"),  # pop {pc}
        ({"instruction": 0xE12F_FF1E}, "bx"),  # bx lr
        ({"instruction": 0xE1A0_F00E}, "writes the PC"),  # mov pc, lr
        ({"instruction": 0xF8BD_0A00}, "rfe/srs"),  # rfeia sp!
        ({"instruction": 0xF5D0_F000}, "memory hint"),  # pld [r0]
        ({"instruction": 0xED80_0B00}, "window must lie in the scratch RAM"),  # vstr d0, [r0] with r0 = 0
        ({"instruction": 0xED8D_0B00}, "r13 is not set by the case"),  # vstr d0, [sp]
        ({"instruction": SMC_0, "gprs": {0: 0x8400_0008}}, "PSCI function ID"),
        ({"instruction": mcr(15, 0, 1, 1, 0), "gprs": {1: SAFE_SCTLR | 1}}, "SCTLR value"),
        ({"instruction": mcr(15, 0, 1, 1, 0), "gprs": {1: SAFE_SCTLR | 1 << 13}}, "SCTLR value"),
        ({"instruction": mcr(14, 0, 0, 0, 2, 2), "gprs": {0: 1 << 15}}, "DBGDSCRext"),
        ({"instruction": mcr(14, 0, 0, 0, 0, 5), "gprs": {0: 1}}, "breakpoint/watchpoint"),
    ],
)
def test_validate_rejects(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ConformanceInputError, match=re.escape(message)):
        validate(_case(**changes))


def test_duplicate_ids_rejected() -> None:
    with pytest.raises(ConformanceInputError, match="more than once"):
        run_traps([_case(), _case()])


@pytest.mark.parametrize(
    ("word", "name"),
    [
        (hvc(0x1234), "hvc"),
        (SMC_0, "smc"),
        (BKPT_0, "bkpt"),
        (ERET, "eret"),
        (MRS_R0_CPSR, "mrs/msr (incl. banked)"),
        (0xE12F_F000, "mrs/msr (incl. banked)"),  # msr cpsr_fsxc, r0
        (WFI, "msr immediate / hint"),
        (UDF_0, "media"),
        (svc(0), "svc"),
        (mrc(15, 0, 0, 1, 0), "mrc"),
        (mcr(15, 0, 0, 1, 0), "mcr"),
        (mrrc(15, 0, 2, 3, 14), "mrrc"),
        (vmrs(0, FPSCR), "mrc"),
        (0xEE30_0B01, "cdp"),  # vadd.f64 d0, d0, d1
        (cps_mode(USR), "cps/setend"),
        (0xF57F_F06F, "barrier"),  # isb sy
        (0xF220_0150, "advanced simd data-processing"),  # vorr q0, q0, q0
        (0xE150_0001, "compare"),  # cmp r0, r1
        (0xE000_0291, "multiply"),  # mul r0, r1, r2
        (0xFF00_0000, "undefined"),
    ],
)
def test_instruction_classes(word: int, name: str) -> None:
    kind = instruction_class(word)
    assert kind.allowed and kind.name == name, kind


def test_encoders_agree_with_the_assembler(tmp_path: Path) -> None:
    """The hand encoders above against GNU as, so the table's instruction words are what they say."""
    samples = {
        "mrc p15, 0, r0, c1, c0, 0": mrc(15, 0, 0, 1, 0),
        "mcr p15, 0, r1, c1, c0, 0": mcr(15, 0, 1, 1, 0),
        "mrcne p15, 4, r7, c15, c0, 0": mrc(15, 4, 7, 15, 0, cond=0x1),
        "mcr p15, 0, r0, c7, c14, 1": mcr(15, 0, 0, 7, 14, 1),
        "mrrc p15, 0, r2, r3, c14": mrrc(15, 0, 2, 3, 14),
        "mcrr p15, 0, r0, r1, c2": mcrr(15, 0, 0, 1, 2),
        "mrc p14, 0, r0, c0, c1, 0": mrc(14, 0, 0, 0, 1),
        "hvc #0x1234": hvc(0x1234),
        "svc #0x42": svc(0x42),
        "smc #0": SMC_0,
        "eret": ERET,
        "wfi": WFI,
        "wfe": WFE,
        "udf #0": UDF_0,
        "bkpt #0": BKPT_0,
        "mrs r0, cpsr": MRS_R0_CPSR,
        "cps #16": cps_mode(USR),
        "cpsie i": CPSIE_I,
        "vmrs r0, fpscr": vmrs(0, FPSCR),
        "vmrs r0, fpsid": vmrs(0, FPSID),
        "vmrs r0, mvfr0": vmrs(0, MVFR0),
        "vmrs r0, fpexc": vmrs(0, FPEXC),
        "vmsr fpscr, r0": vmsr(FPSCR, 0),
        "mov r1, #5": MOV_R1_5,
    }
    tools = find_toolchain()
    source = tmp_path / "enc.s"
    source.write_text(
        ".syntax unified\n.arm\n.arch armv7-a\n.arch_extension virt\n.arch_extension sec\n"
        ".fpu neon-vfpv4\n" + "".join(f"    {text}\n" for text in samples)
    )
    obj, raw = tmp_path / "enc.o", tmp_path / "enc.bin"
    subprocess.run([tools.assembler, "-o", str(obj), str(source)], check=True, capture_output=True)
    objcopy = tools.assembler.replace("-as", "-objcopy")
    subprocess.run([objcopy, "-O", "binary", "-j", ".text", str(obj), str(raw)], check=True)
    data = raw.read_bytes()
    words = [int.from_bytes(data[i : i + 4], "little") for i in range(0, len(data), 4)]
    assert dict(zip(samples, words, strict=True)) == {k: v for k, v in samples.items()}


LINE = "R 00000000 0 0 4a001234 40200044 000001d3 0 00000000 00000000 00000000 00000000"


def test_parse_output_accepts_the_format() -> None:
    second = LINE.replace("R 00000000", "R 00000001") + " r0=414fc0f0 rc=00000001"
    text = f"HYPSPEC-TRAP 00000002\n{LINE}\n{second}\nDONE 00000002\n"
    parsed = parse_output(text, 2)
    assert parsed.done and parsed.reports[0].hsr == 0x4A00_1234
    assert parsed.reports[1].changed == {0: 0x414F_C0F0, 12: 1}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage\n",
        f"HYPSPEC-S2 00000001\n{LINE}\nDONE 00000001\n",  # the other harness's banner
        f"HYPSPEC-TRAP 00000001\n{LINE}\n{LINE}\nDONE 00000001\n",  # repeated index
        f"HYPSPEC-TRAP 00000001\n{LINE.upper()}\nDONE 00000001\n",
        f"HYPSPEC-TRAP 00000001\n{LINE} rd=00000000\nDONE 00000001\n",  # r13 is not reported
        f"HYPSPEC-TRAP 00000001\n{LINE} r0=0\nDONE 00000001\n",
        f"HYPSPEC-TRAP 00000001\n{LINE.replace(' 0 0 ', ' 3 0 ', 1)}\nDONE 00000001\n",  # code 3
    ],
)
def test_parse_output_is_strict(text: str) -> None:
    with pytest.raises(HarnessRunError):
        parse_output(text, 1)


def test_parse_output_drops_the_line_a_kill_cut() -> None:
    parsed = parse_output(f"HYPSPEC-TRAP 00000002\n{LINE}\nR 0000", 2, truncated=True)
    assert len(parsed.reports) == 1 and not parsed.done


def test_an_image_past_its_watchdog_is_a_harness_failure_with_its_image_kept() -> None:
    cases = [_case(id=f"c{n}") for n in range(3)]
    with pytest.raises(HarnessRunError) as failed:
        run_traps(cases, timeout=0.001)
    assert_hung_image_kept(str(failed.value), "c0")


def test_effective_registers_force_imo() -> None:
    values = effective_registers(_case(registers={"HCR": HCR_TWI}))
    assert values["HCR"] == HCR_TWI | 1 << 4
    assert values["HDCR"] is None and values["CPACR"] == 0x00F0_0000


def test_emit_trap_elf_writes_image_and_manifest(tmp_path: Path) -> None:
    cases = [_case(id=f"c{n}", instruction=[NOP, WFI][n % 2]) for n in range(5)]
    elves = emit_trap_elf(cases, tmp_path, batch=3)
    assert [e.name for e in elves] == ["trap_000.elf", "trap_001.elf"]
    manifest = json.loads((tmp_path / "trap_001.json").read_text())
    assert [c["id"] for c in manifest["cases"]] == ["c3", "c4"]
    assert manifest["guest_vectors"] == GUEST_VECTORS
    assert manifest["qemu"][-1] == "trap_001.elf"
    first = json.loads((tmp_path / "trap_000.json").read_text())
    assert first["cases"][0]["address"] == first["cases"][2]["address"]  # shared snippet
