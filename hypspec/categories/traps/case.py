"""The interface of the bare-metal trap harness: one guest instruction under one trap configuration.

A :class:`TrapCase` says which A32 instruction word the guest executes, in which Non-secure mode
(SVC at PL1 or User at PL0), with which values in r0-r12, and how the hypervisor's trap controls
are programmed.  A :class:`TrapObservation` is what the target did: the instruction executed
(``executed``, with r0-r12 afterwards), it was UNDEFINED at PL1 (``undefined``, with the guest's
LR_und), it was taken to Hyp mode (``hyp_trap``, with HSR and ELR_hyp), something else happened
(``other``: an SVC, an abort or a virtual interrupt taken at PL1) or nothing came back in time
(``no_report``).

Trap registers (``TrapCase.registers``), and the value the harness programs when a name is absent:

=========  ==============  ====================================================================
name       default         written
=========  ==============  ====================================================================
HCR        0x00000000      from Hyp, last; the harness always ORs in IMO (bit 4), see below
HSTR       0x00000000      from Hyp
HCPTR      0x00000000      from Hyp (bits that read as one, such as unimplemented TCPn, do so)
HDCR       (boot value)    from Hyp; absent = not written, QEMU's reset value (HPMN = PMCR.N)
CNTHCTL    0x00000003      from Hyp: PL1PCTEN = PL1PCEN = 1, PL1 may use the physical counter
                           and timer (the value a KVM host leaves for itself)
CNTKCTL    0x00000000      from Hyp (a PL1 register, writable at PL2): no PL0 timer access
CPACR      0x00f00000      from Hyp: cp10 and cp11 full access, so VFP is usable unless a case
                           says otherwise.  The CPACR does not apply to Hyp mode, so Hyp writes
                           it directly instead of from a PL1 prologue.
FPEXC      0x40000000      from Hyp with VMSR, while HCPTR is still zero: EN = 1
=========  ==============  ====================================================================

HCR.IMO is forced to 1 because the per-case watchdog is the Hyp physical timer, whose IRQ must
reach Hyp mode whatever the guest does with CPSR.I.  IMO changes nothing for the execution of a
single instruction other than interrupt routing and the enabling of HCR.VI, so the comparison
should use :func:`effective_registers`, which shows the forced bit.

The guest starts with CPSR.{A,I,F} = 1, ARM state, little-endian, flags NZCVQ = 0 (a conditional
instruction is evaluated against those flags), its MMU and caches off (SCTLR.{M,C,I,A,V,EE,TE} =
0), VBAR at the harness's guest vectors, and HCR.VM = 0: guest addresses are physical addresses.
r13/r14: SP_usr = LR_usr = SP_svc = 0, LR_svc = the address after the instruction and SPSR_svc =
0x1d3, so that an exception return executed at PL1 (ERET, which is SUBS PC, LR, #0 there)
continues at the harness's report point.

What :func:`validate` refuses, and why (the instruction must leave the harness able to report):

* HCR.VM or HCR.DC: they turn on stage 2, which the harness does not configure.
* HCR bits [31:28]: UNK/SBZP in ARMv7; bit 29 is ARMv8's HCD, which QEMU honours on this CPU
  and which makes HVC -- the harness's only way back to Hyp mode -- UNDEFINED.
* HCR.TGE with mode ``svc``: TGE routes PL0 exceptions to Hyp; running PL1 code with it set is
  not a configuration the architecture gives a meaning to (ARMv8 AArch32 makes the exception
  return to PL1 illegal), so only ``usr`` cases may set it.
* Instructions that write the PC or write memory outside a scratch window, or could change
  control flow: branches, loads and stores, LDM/STM, RFE/SRS, PLD/PLI, Advanced SIMD element
  loads/stores, and data-processing with Rd = PC (the ERET encoding is allowed).  The accepted
  classes are listed in :func:`instruction_class`.
* LDC/STC (and VLDR/VSTR/VLDM/VSTM, VPUSH/VPOP): allowed only with a base register r0-r12
  whose value, from ``gprs``, keeps the whole +/-1 KiB window in [TRAP_SCRATCH_BASE,
  TRAP_SCRATCH_END); a literal (PC-relative) LDC is allowed, as it only reads the snippet.
* SMC with r0 a PSCI function ID (0x84000000-0x8400ffff, 0xc4000000-0xc400ffff, or the PSCI
  0.1 IDs 0x95c1ba5e-0x95c1ba61): QEMU implements PSCI over SMC on this board, and SYSTEM_OFF,
  SYSTEM_RESET or CPU_OFF would end the image.
* An MCR whose written value could stop the guest from reporting or outlive the case:
  SCTLR with M, V, EE or TE set (stage 1 on with no tables, high vectors, big-endian or Thumb
  exception entry); DBGDSCRext with MDBGen or HDBGen set, DBGBCRn/DBGWCRn with E set, and any
  non-zero DBGVCR (debug events that could fire in later cases).

Guest state the harness restores before every case, so that an instruction that executed in
one case cannot change the next: SCTLR, VBAR, TTBCR, TTBR0, TTBR1, DACR, CONTEXTIDR, FCSEIDR,
TPIDRURW, TPIDRURO, TPIDRPRW, DFSR, IFSR, DFAR, IFAR, PAR, CSSELR, CNTP_CTL, CNTV_CTL, FPSCR,
d0-d31, the Event Register (clear: the guest's prologue SEV; WFE runs after the exception return
that set it), every register in the table above, r0-r12 and
the banked r13/r14 listed above.  Not restored: PMU counters and controls, the other MMU
configuration registers (unused with the MMU off), and the scratch window.

``gprs_after`` holds r0-r12 as Hyp mode sees them: if the instruction switched the guest to FIQ
mode, r8-r12 there are the User-mode bank, not the FIQ one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

from hypspec.conformance import layout
from hypspec.conformance.errors import ConformanceInputError

Mode = Literal["svc", "usr"]
Outcome = Literal["executed", "undefined", "hyp_trap", "other", "no_report"]

#: Trap registers a case may set, in the order of the harness's case record.
REGISTER_NAMES = ("HCR", "HSTR", "HCPTR", "HDCR", "CNTHCTL", "CNTKCTL", "CPACR", "FPEXC")

#: Values programmed for an absent register; HDCR absent means "not written" (None).
DEFAULT_REGISTERS: dict[str, int | None] = {
    "HCR": 0x0000_0000,
    "HSTR": 0x0000_0000,
    "HCPTR": 0x0000_0000,
    "HDCR": None,
    "CNTHCTL": 0x0000_0003,
    "CNTKCTL": 0x0000_0000,
    "CPACR": 0x00F0_0000,
    "FPEXC": 0x4000_0000,
}

HCR_VM = 1 << 0
HCR_IMO = 1 << 4
HCR_DC = 1 << 12
HCR_TGE = 1 << 27
HCR_RESERVED = 0xF000_0000
#: Bits the harness ORs into every HCR it programs.
HCR_FORCED = HCR_IMO

#: CPSR values the guest is entered with: mode SVC (0b10011) or User (0b10000), A, I, F set.
GUEST_CPSR: dict[str, int] = {"svc": 0x1D3, "usr": 0x1D0}

#: RAM an LDC/STC-class instruction may address: beyond the harness and its case records.
TRAP_SCRATCH_BASE = layout.TABLE_BASE
TRAP_SCRATCH_END = layout.RAM_END
#: Bytes either side of the base register an extension-register load/store may touch (VLDM of
#: 32 doublewords is 256 bytes; imm8 * 4 reaches 1020).
MEMORY_WINDOW = 1024

_PSCI_RANGES = (
    range(0x8400_0000, 0x8401_0000),
    range(0xC400_0000, 0xC401_0000),
    range(0x95C1_BA5E, 0x95C1_BA62),
)


@dataclass(frozen=True)
class TrapCase:
    """One guest instruction under one trap configuration."""

    id: str
    mode: Mode  # the guest mode that executes the instruction (Non-secure SVC or User)
    instruction: int  # one A32 instruction word, cond field included
    registers: dict[str, int]  # trap configuration by name (see REGISTER_NAMES); absent = default
    gprs: dict[int, int] = field(default_factory=dict)  # r0..r12 before the instruction; absent = 0


@dataclass(frozen=True)
class TrapObservation:
    """What the target did for one :class:`TrapCase`."""

    id: str
    outcome: Outcome
    hsr: int | None = None  # hyp_trap (an UNDEFINED taken to Hyp through TGE has EC 0)
    elr: int | None = None  # ELR_hyp for hyp_trap, the guest's LR_und for undefined
    gprs_after: dict[int, int] | None = None  # r0..r12 after an executed instruction
    detail: str = ""


def effective_registers(case: TrapCase) -> dict[str, int | None]:
    """The values the harness programs for ``case`` (None: HDCR left at its boot value)."""
    values = {name: case.registers.get(name, DEFAULT_REGISTERS[name]) for name in REGISTER_NAMES}
    values["HCR"] = (values["HCR"] or 0) | HCR_FORCED
    return values


def initial_gprs(case: TrapCase) -> list[int]:
    """r0..r12 as the guest starts the instruction."""
    return [case.gprs.get(number, 0) for number in range(13)]


# --- Instruction classes (ARM DDI 0406C.d, chapter A5, "ARM Instruction Set Encoding") ---------


@dataclass(frozen=True)
class InstructionClass:
    """The decode of an instruction word as far as the harness cares."""

    name: str
    allowed: bool
    reason: str = ""  # why a refused class is refused


def _bits(word: int, high: int, low: int) -> int:
    return (word >> low) & ((1 << (high - low + 1)) - 1)


def _refuse(name: str, reason: str) -> InstructionClass:
    return InstructionClass(name, False, reason)


def _allow(name: str) -> InstructionClass:
    return InstructionClass(name, True)


_PC_WRITE = "it writes the PC, so the guest would not reach the harness's report instruction"
_MEMORY = "it accesses memory at an address the harness cannot vouch for"


def _data_processing_rd(name: str, word: int, rd_high: int = 15) -> InstructionClass:
    if _bits(word, rd_high, rd_high - 3) == 15:
        return _refuse(name, _PC_WRITE)
    return _allow(name)


def _miscellaneous(word: int) -> InstructionClass:
    """A5.2.12: op = bits[22:21], op2 = bits[6:4]."""
    op, op2 = _bits(word, 22, 21), _bits(word, 6, 4)
    if op2 == 0b000:
        return _allow("mrs/msr (incl. banked)")
    if op2 == 0b001:
        return _refuse("bx", _PC_WRITE) if op == 0b01 else _data_processing_rd("clz", word)
    if op2 in (0b010, 0b011) and op == 0b01:
        return _refuse("bxj/blx", _PC_WRITE)
    if op2 == 0b101:
        return _data_processing_rd("saturating add/subtract", word)
    if op2 == 0b110 and op == 0b11:
        return _allow("eret")
    if op2 == 0b111:
        return _allow({0b01: "bkpt", 0b10: "hvc", 0b11: "smc"}.get(op, "undefined"))
    return _allow("undefined")


def _data_processing(word: int) -> InstructionClass:
    """A5.2: bits[27:25] = 00x."""
    op1, op2 = _bits(word, 24, 20), _bits(word, 7, 4)
    if not _bits(word, 25, 25):
        if op2 & 0b1001 == 0b1001:  # 1xx1: multiply, synchronization, extra load/store
            if op2 == 0b1001 and not op1 & 0b10000:
                return _data_processing_rd("multiply", word, rd_high=19)
            return _refuse("load/store (extra, exclusive or swap)", _MEMORY)
        if op1 & 0b11001 == 0b10000:  # 10xx0: miscellaneous, halfword multiply
            if op2 & 0b1000:
                return _data_processing_rd("halfword multiply", word, rd_high=19)
            return _miscellaneous(word)
    elif op1 in (0b10000, 0b10100):
        return _data_processing_rd("movw/movt", word)
    elif op1 in (0b10010, 0b10110):
        return _allow("msr immediate / hint")
    if _bits(word, 24, 23) == 0b10 and _bits(word, 20, 20):  # TST, TEQ, CMP, CMN: no Rd
        return _allow("compare")
    return _data_processing_rd("data-processing", word)


def _memory_window_ok(word: int, gprs: dict[int, int]) -> str | None:
    """None if an LDC/STC-class access stays in the scratch window, else the reason it does not."""
    rn, load = _bits(word, 19, 16), bool(_bits(word, 20, 20))
    writeback = bool(_bits(word, 21, 21))
    if rn == 15:
        if load and not writeback:
            return None  # a literal load reads the snippet's own neighbourhood
        return "a store or writeback with base register PC"
    if rn in (13, 14):
        return f"base register r{rn} is not set by the case (use r0-r12)"
    base = gprs.get(rn, 0)
    low, high = base - MEMORY_WINDOW, base + MEMORY_WINDOW + 8
    if low >= TRAP_SCRATCH_BASE and high <= TRAP_SCRATCH_END:
        return None
    return (
        f"base register r{rn} = {base:#x}: the +/-{MEMORY_WINDOW}-byte window must lie in the "
        f"scratch RAM [{TRAP_SCRATCH_BASE:#x}, {TRAP_SCRATCH_END:#x})"
    )


def _coprocessor(word: int) -> InstructionClass:
    """A5.6 (and the unconditional 1111 110x / 1110 space, A5.7): bits[25:20] = op1."""
    op1, coproc, op = _bits(word, 25, 20), _bits(word, 11, 8), _bits(word, 4, 4)
    if op1 & 0b111110 == 0:
        return _allow("undefined")
    if not op1 & 0b100000 and op1 & 0b111010:  # 0xxxxx, not 000x0x
        is_ext = coproc & 0b1110 == 0b1010
        name = "vldr/vstr/vldm/vstm" if is_ext else ("ldc" if op1 & 1 else "stc")
        return _allow(name)  # checked against the case's registers by validate()
    if op1 in (0b000100, 0b000101):
        return _allow("mcrr" if op1 == 0b000100 else "mrrc")
    if op1 & 0b110000 == 0b100000:
        if not op:
            return _allow("cdp")
        return _allow("mrc" if op1 & 1 else "mcr")
    return _allow("svc")


def _unconditional(word: int) -> InstructionClass:
    """A5.7: cond = 0b1111."""
    op1 = _bits(word, 27, 20)
    if not op1 & 0x80:
        if op1 == 0x10:
            return _allow("cps/setend")
        if op1 & 0b1110_0000 == 0b0010_0000:
            return _allow("advanced simd data-processing")
        if op1 == 0x57 and _bits(word, 7, 4) in (0b0001, 0b0100, 0b0101, 0b0110):
            return _allow("barrier")
        return _refuse("memory hint / simd load-store", _MEMORY)
    if op1 & 0b1110_0000 == 0b1010_0000:
        return _refuse("blx immediate", _PC_WRITE)
    if op1 & 0b1110_0000 == 0b1000_0000:
        return _refuse("rfe/srs", _MEMORY)
    if op1 & 0b1111_0000 == 0b1111_0000:
        return _allow("undefined")
    return _coprocessor(word)


def instruction_class(word: int) -> InstructionClass:
    """Classify an A32 word: which harness-safe class it is in, or why it is refused.

    Allowed: data-processing and multiply with Rd != PC, MRS/MSR (banked too), CLZ, saturating
    arithmetic, ERET, BKPT, HVC, SMC, hints (NOP, YIELD, WFE, WFI, SEV, DBG), MSR immediate,
    media instructions (UDF among them), SVC, CDP, MCR/MRC, MCRR/MRRC, VFP and Advanced SIMD
    register instructions, CPS, SETEND, barriers, LDC/STC-class accesses (checked against the
    case's registers), and the UNDEFINED encodings of those spaces.
    """
    if not 0 <= word < 1 << 32:
        raise ValueError(f"instruction {word:#x} is not a 32-bit word")
    if _bits(word, 31, 28) == 0b1111:
        return _unconditional(word)
    op1 = _bits(word, 27, 25)
    if op1 in (0b000, 0b001):
        return _data_processing(word)
    if op1 == 0b010 or (op1 == 0b011 and not _bits(word, 4, 4)):
        return _refuse("load/store", _MEMORY)
    if op1 == 0b011:
        return _allow("media")
    if op1 == 0b100:
        return _refuse("ldm/stm", _MEMORY)
    if op1 == 0b101:
        return _refuse("b/bl", _PC_WRITE)
    return _coprocessor(word)


@dataclass(frozen=True)
class Coprocessor:
    """The fields of an MCR/MRC word (A8.8.98 MCR)."""

    coproc: int
    opc1: int
    crn: int
    crm: int
    opc2: int
    rt: int


def coprocessor_fields(word: int) -> Coprocessor:
    return Coprocessor(
        coproc=_bits(word, 11, 8),
        opc1=_bits(word, 23, 21),
        crn=_bits(word, 19, 16),
        crm=_bits(word, 3, 0),
        opc2=_bits(word, 7, 5),
        rt=_bits(word, 15, 12),
    )


SCTLR_UNSAFE = 1 << 0 | 1 << 13 | 1 << 25 | 1 << 30  # M, V, EE, TE
DBGDSCR_UNSAFE = 1 << 14 | 1 << 15  # HDBGen, MDBGen


def _unsafe_write(target: Coprocessor, value: int) -> str | None:
    """Why writing ``value`` with this MCR would stop the harness, or None if it is harmless."""
    key = (target.coproc, target.opc1, target.crn, target.crm, target.opc2)
    if key == (15, 0, 1, 0, 0) and value & SCTLR_UNSAFE:
        return (
            f"SCTLR value {value:#010x} sets M, V, EE or TE (mask {SCTLR_UNSAFE:#010x}): the "
            "guest could not fetch its report instruction or enter its vectors"
        )
    if key == (14, 0, 0, 2, 2) and value & DBGDSCR_UNSAFE:
        return f"DBGDSCRext value {value:#010x} enables monitor or halting debug"
    is_control = target.coproc == 14 and target.opc1 == 0 and target.crn == 0 and target.opc2 in (5, 7)
    if is_control and value & 1:
        return f"a breakpoint/watchpoint control write with E = 1 ({value:#010x})"
    if key == (14, 0, 0, 7, 0) and value:
        return f"DBGVCR value {value:#010x} enables vector catch"
    return None


def _fail(case: TrapCase, message: str) -> None:
    raise ConformanceInputError(f"trap case {case.id!r}: {message}")


def _validate_fields(case: TrapCase) -> None:
    if not isinstance(case.id, str) or not case.id:
        _fail(case, "id must be a non-empty string")
    if case.mode not in GUEST_CPSR:
        _fail(case, f"mode must be 'svc' or 'usr', not {case.mode!r}")
    if not isinstance(case.instruction, int) or not 0 <= case.instruction < 1 << 32:
        _fail(case, f"instruction {case.instruction!r} is not a 32-bit word")
    for name, value in case.registers.items():
        if name not in REGISTER_NAMES:
            _fail(case, f"unknown register {name!r}; the harness programs {', '.join(REGISTER_NAMES)}")
        if not isinstance(value, int) or not 0 <= value < 1 << 32:
            _fail(case, f"{name} = {value!r} is not a 32-bit value")
    for number, value in case.gprs.items():
        if not isinstance(number, int) or not 0 <= number <= 12:
            _fail(case, f"gprs key {number!r} must be a register number 0..12")
        if not isinstance(value, int) or not 0 <= value < 1 << 32:
            _fail(case, f"r{number} = {value!r} is not a 32-bit value")


def _validate_hcr(case: TrapCase) -> None:
    hcr = case.registers.get("HCR", 0)
    if hcr & (HCR_VM | HCR_DC):
        _fail(
            case,
            f"HCR {hcr:#010x} sets VM or DC: the trap harness runs the guest without stage 2 "
            "(use the Stage-2 harness for translation cases)",
        )
    if hcr & HCR_RESERVED:
        _fail(
            case,
            f"HCR {hcr:#010x} sets bits [31:28], UNK/SBZP in ARMv7; bit 29 (ARMv8 HCD) would "
            "also make UNDEFINED the HVC the harness reports with",
        )
    if hcr & HCR_TGE and case.mode == "svc":
        _fail(
            case,
            "HCR.TGE = 1 with mode 'svc': TGE is for running PL0 code under Hyp; a PL1 guest "
            "with TGE set has no architected behaviour to compare with (ARMv8 AArch32 makes the "
            "return to PL1 illegal), so only 'usr' cases may set it",
        )


def _validate_instruction(case: TrapCase) -> None:
    word = case.instruction
    kind = instruction_class(word)
    if not kind.allowed:
        _fail(case, f"instruction {word:#010x} ({kind.name}) is refused: {kind.reason}")
    if kind.name in ("ldc", "stc", "vldr/vstr/vldm/vstm"):
        problem = _memory_window_ok(word, case.gprs)
        if problem is not None:
            _fail(case, f"instruction {word:#010x} ({kind.name}) is refused: {problem}")
    if kind.name == "smc":
        r0 = case.gprs.get(0, 0)
        if any(r0 in ids for ids in _PSCI_RANGES):
            _fail(
                case,
                f"SMC with r0 = {r0:#010x}, a PSCI function ID: QEMU's virt board implements "
                "PSCI over SMC and could power the image off or reset it; use another r0",
            )
    if kind.name == "mcr":
        target = coprocessor_fields(word)
        value = case.gprs.get(target.rt, 0) if target.rt <= 12 else 0
        problem = _unsafe_write(target, value)
        if problem is not None:
            _fail(case, f"instruction {word:#010x} (mcr) is refused: {problem}")


def validate(case: TrapCase) -> None:
    """Raise :class:`ConformanceInputError` if the harness cannot run ``case`` safely.

    The rules are listed in this module's docstring.
    """
    _validate_fields(case)
    _validate_hcr(case)
    _validate_instruction(case)


def is_wait(word: int) -> bool:
    """WFI or WFE (any condition): the harness gives these a short watchdog, see image.py."""
    return word & 0x0FFF_FFFE == 0x0320_F002


# --- A mixed population, for throughput measurement ----------------------------------------------

_MIX: tuple[tuple[int, dict[str, int], dict[int, int]], ...] = (
    (0xEE110F10, {}, {}),  # mrc p15, 0, r0, c1, c0, 0 (SCTLR): executed
    (0xEE110F10, {"HSTR": 1 << 1}, {}),  # trapped by HSTR.T1
    (0xEE010F10, {"HCR": 1 << 26}, {0: 0x00C5_0078}),  # mcr SCTLR, HCR.TVM
    (0xEE100F10, {}, {}),  # mrc MIDR
    (0xEEF10A10, {"HCPTR": 0xC00}, {}),  # vmrs r0, fpscr under HCPTR.TCP10/11
    (0xEEF10A10, {}, {}),  # vmrs executed
    (0xEC532F0E, {"CNTHCTL": 0}, {}),  # mrrc CNTPCT, PL1PCTEN = 0
    (0xE1412374, {}, {}),  # hvc #0x1234
    (0xE320F003, {"HCR": 1 << 13}, {}),  # wfi, TWI
    (0xE7F000F0, {}, {}),  # udf
    (0xEE910F11, {}, {}),  # mrc HCR from PL1: UNDEFINED
    (0xE1600070, {"HCR": 1 << 19}, {}),  # smc, TSC
    (0xEE300F10, {"HCR": 1 << 17}, {}),  # mrc p15, 1, r0, c0, c0, 0 (CCSIDR), HCR.TID2
    (0xE3A01005, {}, {}),  # mov r1, #5
)


def mixed_cases(count: int, seed: int = 0) -> list[TrapCase]:
    """``count`` cases drawn from a fixed mix of trapped, executed and UNDEFINED instructions."""
    rng = random.Random(seed)
    cases = []
    for index in range(count):
        word, registers, gprs = rng.choice(_MIX)
        mode: Mode = "usr" if rng.random() < 0.25 else "svc"
        cases.append(TrapCase(f"mixed-{index}", mode, word, dict(registers), dict(gprs)))
    return cases
