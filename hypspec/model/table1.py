"""The paper's Table 1 (the state KVM/ARM switches on a Cortex-A15), counted from the model.

The counts come from running the model's world switch, not from a list: a vCPU is entered,
uses the VFP (so the lazy switch runs) and exits, and every context word the lowvisor read on
the way in and wrote on the way out is counted, by class. The paper's numbers are those of
`shared/reference/kvm-arm-facts.md` §1 (recalled, not read from the paper itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypspec.concrete.runtime import RecordingMap
from hypspec.model.machine import Machine
from hypspec.model.program import Model


@dataclass(frozen=True)
class Row:
    state: str
    model: int
    paper: str
    counted: str
    note: str


# (class, first word, last word, the paper's count, what the difference means)
# `hypspec table1 --json`: its format, which changes when a field does, and the schema of it
REPORT_FORMAT = "hypspec-table1/1"
REPORT_SCHEMA = Path(__file__).with_name("table1-report.schema.json")

CLASSES = [
    ("General purpose (GP) registers", 0, 36, "38",
     "struct kvm_regs holds 37 words: R0-R12, SP_usr, LR_usr, PC, CPSR, SP/LR/SPSR of SVC, ABT, UND and "
     "IRQ mode, and R8-R12, SP, LR and SPSR of FIQ mode. Linux 3.10 restores all 37 but saves only 29 "
     "(no FIQ bank: the linux-3.10 variant's finding); the paper's 38 is not a count either version gives."),
    ("Control registers", 37, 67, "26",
     "CP15 registers moved through cp15[] (a 64-bit TTBR0, TTBR1 or PAR counts as two words). Linux 3.10 "
     "moves 22 registers in 25 words; AMAIR0 and AMAIR1 came later. Besides these, every switch writes "
     "VPIDR, VMPIDR, VTTBR, HCR, HSTR, HCPTR, HDCR, CNTHCTL and CNTVOFF, which the paper may have counted."),
    ("VGIC control registers", 104, 111, "16",
     "save_vgic_state reads HCR, VMCR, MISR, EISR0, EISR1, ELRSR0, ELRSR1 and APR (8) and "
     "restore_vgic_state writes HCR, VMCR and APR back; the paper's 16 may count both directions."),
    ("VGIC list registers", 112, 115, "4", "GICH_VTR.ListRegs + 1 = 4 on Cortex-A15."),
    ("Arch. timer control registers", 116, 117, "2", "CNTV_CTL and CNTV_CVAL; CNTVOFF is per VM."),
    ("VFP registers (64-bit)", 68, 99, "32", "D0-D31, moved lazily on the guest's first VFP instruction."),
    ("VFP control registers", 100, 103, "4",
     "FPEXC and FPSCR always; FPINST and FPINST2 only when FPEXC.EX is set, which Cortex-A15 never does."),
]


def _one_vcpu(model: Model) -> Machine:
    """One PE, booted, with VM 1 (its VMID assigned) and its vCPU 1, not yet run."""
    m = Machine(model, 1)
    m.run("KVM.BootPE", 0)
    m.run("KVM.CreateVM", 0, 1, 0x80000, 0)
    m.run("KVM.UpdateVTTBR", 0, 1)
    m.run("KVM.CreateVcpu", 0, 1, 1, 0)
    return m


def switched_words(model: Model) -> tuple[set[int], set[int]]:
    """The context words one world switch restores (the entry, and the lazy VFP switch) and saves
    (the exit). Restored: a distinct value planted in the vCPU's context reaches the hardware
    (the PC and CPSR keep their valid reset values, which must come back unchanged). Saved: the
    exit writes the word."""
    m = _one_vcpu(model)
    planted = dict(m.state.KVM_VcpuCtx)
    for i in range(_WORDS):
        if i not in (15, 16):
            planted[(1 << 7) | i] = _planted(i)
    # CPACR grants CP10 and CP11, so the guest's first VFP instruction traps to the lazy switch,
    # and the guest's FPEXC enables the VFP, so it then executes: it writes D31 with the value
    # planted for it
    planted[(1 << 7) | _CPACR] = _CP10_CP11_FULL
    planted[(1 << 7) | _FPEXC] = _planted(_FPEXC) | _FPEXC_EN
    m.state.KVM_VcpuCtx = planted
    m.run("KVM.RunVcpu", 0, 1)
    m.run("KVM.GuestWriteVFP", 0, 31, _planted(_D31))
    state = m.on(0)
    compiled = model.spec.compiled
    live, significant = compiled.function("KVM.Live"), compiled.function("KVM.Significant")
    restored = {i for i in range(_WORDS) if significant(state, i, live(state, i))
                == significant(state, i, planted.get((1 << 7) | i, 0))}
    ctx = RecordingMap(dict(m.state.KVM_VcpuCtx))
    m.state.KVM_VcpuCtx = ctx
    m.run("KVM.PhysicalIRQ", 0)
    if m.state.KVM_PEInGuest.get(0, False):
        raise AssertionError("the world switch did not return to the host")
    saved = {key & 0x7F for key in ctx.written}
    return restored, saved


_WORDS = 121
_CPACR = 37 + 5  # cp15[c1_CPACR]
_CP10_CP11_FULL = 0x00F00000
_D31 = 68 + 31
_FPEXC = 68 + 32
_FPEXC_EN = 0x40000000


def _planted(i: int) -> int:
    """A value for word `i` no other word has and every register can hold (bits 3:2 only)."""
    return (i + 1) << 2


def table1_rows(model: Model) -> list[Row]:
    restored, saved = switched_words(model)
    rows = []
    for name, first, last, paper, note in CLASSES:
        words = range(first, last + 1)
        r = sum(1 for i in words if i in restored)
        s = sum(1 for i in words if i in saved)
        rows.append(Row(name, max(r, s), paper, f"{s} words saved, {r} restored", note))
    return rows


def unswitched_writable(model: Model) -> list[str]:
    """System registers a running guest can write without a trap that the switch does not move."""
    m = _one_vcpu(model)
    m.run("KVM.RunVcpu", 0, 1)
    state = m.on(0)
    compiled = model.spec.compiled
    can_write = compiled.function("Model.GuestCanWrite")
    has_state = compiled.function("Model.SysRegHasState")
    word_of = compiled.function("KVM.SwitchedWordOf")
    guest_word = compiled.function("KVM.GuestWord")
    members = model.spec.program.enums["Model.SysReg"].members
    missing = []
    for index, member in enumerate(members):
        if has_state(state, index) and can_write(state, index):
            word = word_of(state, index)
            if word < 0 or not guest_word(state, word):
                missing.append(member.removeprefix("SysReg_"))
    return missing
