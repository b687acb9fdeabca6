"""The KVM/ARM model's CP15 emulation (models/kvm_arm/07-coprocessor.md), run: a guest's trapped
MRC and MCR followed through the syndrome to Linux 3.10's tables and back into the guest, with
every invariant checked after every step; and the tables themselves, against the entries of
`coproc_a15.c` and `coproc.c` as Linux lists them. The expected values are the architecture's (an
A32 instruction is four bytes, the Undefined Instruction exception of ARM DDI 0406C.d §B1.9) and
Linux's (ACTLR reads `cp15[c1_ACTLR]`, `pm_fake` reads zero), worked out here."""

from __future__ import annotations

from itertools import product

import pytest

from hypspec.model.machine import Machine
from hypspec.model.program import Model, load_model
from tests.helpers.model_steps import context_word, step

SVC, USR, UND = 0b10011, 0b10000, 0b11011
# Context words (models/kvm_arm/01-context.md): R3, SP_usr, the PC, the CPSR, SP_svc, LR_und,
# SPSR_und, and cp15[c1_ACTLR].
R3, SP_USR, PC, CPSR, SP_SVC, LR_UND, SPSR_UND, ACTLR = 3, 13, 15, 16, 17, 24, 25, 37 + 4
# CP15 encodings as KVM.CP15Encoding packs them: CRn, opc1, CRm, opc2.
ACTLR_ENC, CBAR_ENC, PMCR_ENC = (1, 0, 0, 1), (15, 4, 0, 0), (9, 0, 12, 0)

# Linux 3.10's tables (arch/arm/kvm/coproc_a15.c `a15_regs[]`, coproc.c `cp15_regs[]`), 32-bit
# entries as (CRn, opc1, CRm, opc2): those with an accessor, and those listed without one.
WITH_ACCESSOR = {
    (1, 0, 0, 1), (9, 1, 0, 2), (9, 1, 0, 3), (15, 4, 0, 0),  # ACTLR, L2CTLR, L2ECTLR, CBAR
    (7, 0, 6, 2), (7, 0, 10, 2), (7, 0, 14, 2),  # DCISW, DCCSW, DCCISW
    *((9, 0, 12, op2) for op2 in (0, 1, 2, 3, 5, 6, 7)),  # PMCR ... PMCEID1
    *((9, 0, crm, op2) for crm in (13, 14) for op2 in (0, 1, 2)),  # PMCCNTR ... PMINTENCLR
}
WITHOUT_ACCESSOR = {
    (0, 0, 0, 5), (0, 2, 0, 0), (1, 0, 0, 0), (1, 0, 0, 2),  # MPIDR, CSSELR, SCTLR, CPACR
    (2, 0, 0, 2), (3, 0, 0, 0),  # TTBCR, DACR
    (5, 0, 0, 0), (5, 0, 0, 1), (5, 0, 1, 0), (5, 0, 1, 1), (6, 0, 0, 0), (6, 0, 0, 2),  # fault regs
    (10, 0, 2, 0), (10, 0, 2, 1), (12, 0, 0, 0),  # PRRR, NMRR, VBAR
    *((13, 0, 0, op2) for op2 in (1, 2, 3, 4)), (14, 0, 1, 0),  # CONTEXTIDR ... TPIDRPRW, CNTKCTL
}


def _encoding(crn: int, opc1: int, crm: int, opc2: int) -> int:
    return crn << 10 | opc1 << 7 | crm << 3 | opc2


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def _guest(model: Model) -> Machine:
    machine = Machine(model, 2)
    for name, args in [("KVM.BootPE", (0,)), ("KVM.CreateVM", (0, 0, 0x10, 0)), ("KVM.UpdateVTTBR", (0, 0)),
                       ("KVM.CreateVcpu", (0, 0, 0, 0)), ("KVM.RunVcpu", (0, 0))]:
        step(machine, name, *args)
    return machine


def _trap(machine: Machine, encoding: tuple[int, int, int, int], t: int, read: bool,
          host: str = "KVM.HandleCP15") -> int:
    """The guest's access traps; the host's step `host` handles it. The PC it trapped at."""
    step(machine, "KVM.GuestCP15Access", 0, _encoding(*encoding), t, read)
    assert not machine.state.KVM_PEInGuest[0]  # an exit
    pc = context_word(machine, PC)
    other = "KVM.RefuseCP15" if host == "KVM.HandleCP15" else "KVM.HandleCP15"
    assert not machine.enabled(other, 0, 0)  # the tables' answer decides which step it is
    step(machine, host, 0, 0)
    return pc


def test_an_actlr_read_gets_the_vcpus_actlr_and_moves_past_the_mrc(model: Model) -> None:
    machine = _guest(model)
    step(machine, "KVM.GuestWriteCore", 0, 3, SVC, 0x1234)
    pc = _trap(machine, ACTLR_ENC, 3, True)  # MRC p15, 0, r3, c1, c0, 1
    assert context_word(machine, R3) == context_word(machine, ACTLR) == 0  # cp15[c1_ACTLR], reset to zero
    assert context_word(machine, PC) == pc + 4
    step(machine, "KVM.RunVcpu", 0, 0)


def test_an_actlr_write_is_ignored(model: Model) -> None:
    machine = _guest(model)
    step(machine, "KVM.GuestWriteCore", 0, 3, SVC, 0x40)
    pc = _trap(machine, ACTLR_ENC, 3, False)  # MCR p15, 0, r3, c1, c0, 1
    assert context_word(machine, ACTLR) == 0 and context_word(machine, R3) == 0x40
    assert context_word(machine, PC) == pc + 4


def test_a_cbar_write_is_made_undefined(model: Model) -> None:
    machine = _guest(model)
    cpsr = context_word(machine, CPSR)
    pc = _trap(machine, CBAR_ENC, 2, False, "KVM.RefuseCP15")  # MCR p15, 4, r2, c15, c0, 0
    assert context_word(machine, CPSR) & 0x1F == UND
    assert context_word(machine, PC) == 0 + 4  # VBAR (zero) + 4: the Undefined Instruction vector
    assert context_word(machine, LR_UND) == pc + 4 and context_word(machine, SPSR_UND) == cpsr
    step(machine, "KVM.RunVcpu", 0, 0)


def test_a_pmcr_read_into_sp_lands_in_the_supervisor_bank(model: Model) -> None:
    machine = _guest(model)
    step(machine, "KVM.GuestWriteCore", 0, 13, SVC, 0x8000)
    step(machine, "KVM.GuestWriteCore", 0, 13, USR, 0x7000)
    _trap(machine, PMCR_ENC, 13, True)  # MRC p15, 0, sp, c9, c12, 0: pm_fake reads zero
    assert context_word(machine, SP_SVC) == 0 and context_word(machine, SP_USR) == 0x7000


def test_an_access_from_user_mode_to_a_pl1_register_is_undefined_without_an_exit(model: Model) -> None:
    machine = _guest(model)
    step(machine, "KVM.GuestChangeMode", 0, USR)
    step(machine, "KVM.GuestCP15Access", 0, _encoding(*ACTLR_ENC), 3, True)
    assert machine.state.KVM_PEInGuest[0]
    assert machine.on(0).CPSR & 0x1F == UND


def test_the_tables_are_linux_3_10s(model: Model) -> None:
    find = model.spec.compiled.function("KVM.FindCP15Reg")
    handlers = model.spec.program.enums["KVM.CP15Handler"].members
    state = model.spec.state()
    for crn, opc1, crm, opc2 in product(range(16), range(8), range(16), range(8)):
        handler = handlers[find(state, crn, opc1, crm, opc2)]
        key = (crn, opc1, crm, opc2)
        expected = "CP15_NotFound" if key not in WITH_ACCESSOR | WITHOUT_ACCESSOR else \
            "CP15_NoAccessor" if key in WITHOUT_ACCESSOR else None
        assert handler == expected if expected else handler not in {"CP15_NotFound", "CP15_NoAccessor"}, key


def test_no_access_a_guest_can_trap_reaches_an_entry_without_an_accessor(model: Model) -> None:
    """What `KVM.Inv.CP15Exit` proves, checked on every encoding, both directions and both of a
    guest's privilege levels, under the trap configuration the world switch installed."""
    machine = _guest(model)
    compiled = model.spec.compiled
    instruction = compiled.function("KVM.CP15Instruction")
    decide = compiled.function("Model.CoprocessorDecision")
    find = compiled.function("KVM.FindCP15Reg")
    hyp_trap = model.spec.program.enums["TrapOutcome"].members.index("TrapOutcome_HypTrap")
    no_accessor = model.spec.program.enums["KVM.CP15Handler"].members.index("CP15_NoAccessor")
    trapped = set()
    for mode in (SVC, USR):
        if mode == USR:
            step(machine, "KVM.GuestChangeMode", 0, mode)
        state = machine.on(0)
        for encoding, read in product(range(1 << 14), (False, True)):
            if decide(state, instruction(state, encoding, 3, read))[0] == hyp_trap:
                trapped.add(encoding)
                fields = (encoding >> 10, encoding >> 7 & 7, encoding >> 3 & 15, encoding & 7)
                assert find(state, *fields) != no_accessor, (hex(encoding), read, mode)
    # the traps KVM sets are there: ACTLR (TAC), CBAR (HSTR.T15), PMCR (TPMCR), DCISW (TSW)
    assert {_encoding(*e) for e in (ACTLR_ENC, CBAR_ENC, PMCR_ENC, (7, 0, 6, 2))} <= trapped
