"""The KVM/ARM model's exits (models/kvm_arm/06-exits.md), run: an MMIO load and store followed
from the guest's instruction through the syndrome, Linux 3.10's decode and the VMM's answer to
the guest's register, with every invariant checked after every step. The expected values are
the architecture's (ARM DDI 0406C.d: LDRSB sign-extends its byte, LDRH zero-extends its
halfword, an A32 instruction is four bytes), worked out here rather than read from the model."""

from __future__ import annotations

import pytest

from hypspec.model.machine import Machine
from hypspec.model.program import Model, load_model
from tests.helpers.model_steps import context_word, step

# A guest frame in none of VM 0's memory slots: a device.
DEVICE = 0x100
# Supervisor mode, the mode a vCPU starts in (CPSR.M), and IRQ mode.
SVC, IRQ = 0b10011, 0b10010
# Context words (models/kvm_arm/01-context.md): the PC, and SP_irq.
PC_WORD, SP_IRQ_WORD = 15, 26
EXIT_MMIO = 1 << 49  # KVM.MMIORequest.Pending


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def _guest_on_pe1(model: Model) -> Machine:
    machine = Machine(model, 2)
    for name, args in [("KVM.BootPE", (0,)), ("KVM.BootPE", (1,)), ("KVM.CreateVM", (0, 0, 0x10, 0)),
                       ("KVM.CreateVcpu", (0, 0, 0, 0)), ("KVM.UpdateVTTBR", (1, 0))]:
        step(machine, name, *args)
    step(machine, "KVM.RunVcpu", 1, 0)
    return machine


def test_a_signed_byte_load_from_a_device_reaches_its_register_sign_extended(model: Model) -> None:
    machine = _guest_on_pe1(model)
    pc = context_word(machine, PC_WORD)
    step(machine, "KVM.GuestLoad", 1, DEVICE, 3, 0b00, True, 5)  # LDRSB r5, [0x10000c]
    assert not machine.state.KVM_PEInGuest[1]  # the stage 2 fault is an exit
    step(machine, "KVM.HandleExit", 0, 0)
    request = machine.state.KVM_VcpuMMIO[0]
    assert request & EXIT_MMIO and request & (1 << 43) == 0  # KVM_EXIT_MMIO, a read
    assert request & ((1 << 40) - 1) == (DEVICE << 12) | (3 << 2)
    assert context_word(machine, PC_WORD) == pc + 4  # 3.10 skips the instruction before the answer
    assert not machine.enabled("KVM.RunVcpu", 1, 0)  # KVM_RUN completes the load first
    step(machine, "KVM.CompleteMMIO", 0, 0, 0x1280)  # the device answers 0x80 in the low byte
    assert context_word(machine, 5) == 0xFFFFFF80
    assert machine.state.KVM_VcpuMMIO[0] & EXIT_MMIO == 0
    step(machine, "KVM.RunVcpu", 1, 0)


def test_an_unsigned_halfword_load_into_a_banked_register_lands_in_that_bank(model: Model) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestChangeMode", 1, IRQ)
    step(machine, "KVM.GuestLoad", 1, DEVICE, 0, 0b01, False, 13)  # LDRH sp, [0x100000] in IRQ mode
    step(machine, "KVM.HandleExit", 0, 0)
    step(machine, "KVM.CompleteMMIO", 0, 0, 0xABCD8001)
    assert context_word(machine, SP_IRQ_WORD) == 0x8001
    assert context_word(machine, 13) == 0  # SP_usr, still as reset left it


def test_a_store_to_a_device_hands_the_register_to_the_vmm(model: Model) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestWriteCore", 1, 7, SVC, 0xFEEDF00D)
    step(machine, "KVM.GuestStore", 1, DEVICE, 1, 7)  # STR r7, [0x100004]
    step(machine, "KVM.HandleExit", 0, 0)
    request = machine.state.KVM_VcpuMMIO[0]
    assert request & (1 << 43) and (request >> 40) & 7 == 4  # a write of four bytes
    assert machine.state.KVM_VcpuMMIOData[0] == 0xFEEDF00D
    step(machine, "KVM.CompleteMMIO", 0, 0, 0x12345678)  # the answer of a store is ignored
    assert context_word(machine, 7) == 0xFEEDF00D


def test_a_fault_inside_a_slot_is_not_mmio(model: Model) -> None:
    """A frame in the VM's slots but not mapped yet: the host maps it (KVM.MapPage), no MMIO."""
    machine = _guest_on_pe1(model)
    step(machine, "KVM.SetMemslotPage", 0, 0, DEVICE, 0x1A)
    pc = context_word(machine, PC_WORD)
    step(machine, "KVM.GuestLoad", 1, DEVICE, 0, 0b10, False, 2)
    step(machine, "KVM.HandleExit", 0, 0)
    assert machine.state.KVM_VcpuMMIO[0] & EXIT_MMIO == 0
    assert context_word(machine, PC_WORD) == pc  # the guest executes the load again


# Context words: r0, the CPSR, and Undefined mode's LR and SPSR.
R0_WORD, CPSR_WORD, LR_UND_WORD, SPSR_UND_WORD = 0, 16, 24, 25
UNDEF = 0b11011
PSCI_CPU_SUSPEND, PSCI_CPU_OFF = 0x95C1BA5E, 0x95C1BA5F


def test_an_smc_is_made_undefined_as_the_architecture_takes_the_exception(model: Model) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestWriteCore", 1, 0, SVC, 7)  # r0 names no PSCI function
    step(machine, "KVM.GuestSMC", 1)
    smc = context_word(machine, PC_WORD)  # a trapped SMC returns to itself
    cpsr = context_word(machine, CPSR_WORD)
    assert not machine.enabled("KVM.HandleExit", 0, 0)  # a call is handle_hvc's or handle_smc's
    step(machine, "KVM.HandleCall", 0, 0)
    # §B1.9: LR_und is the instruction's address plus 4 in ARM state, SPSR_und the CPSR, the
    # mode Undefined with IRQs masked, the PC VBAR (0 at reset, SCTLR.V clear) + 0x04.
    assert context_word(machine, LR_UND_WORD) == smc + 4
    assert context_word(machine, SPSR_UND_WORD) == cpsr
    assert context_word(machine, CPSR_WORD) & 0x1F == UNDEF and context_word(machine, CPSR_WORD) & 0x80
    assert context_word(machine, PC_WORD) == 0x04
    step(machine, "KVM.RunVcpu", 1, 0)


def test_psci_cpu_off_answers_success_and_keeps_the_vcpu_out(model: Model) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestWriteCore", 1, 0, SVC, PSCI_CPU_OFF)
    step(machine, "KVM.GuestHVC", 1, 0)
    after_hvc = context_word(machine, PC_WORD)
    step(machine, "KVM.HandleCall", 0, 0)
    assert context_word(machine, R0_WORD) == 0  # KVM_PSCI_RET_SUCCESS
    assert context_word(machine, PC_WORD) == after_hvc
    assert machine.state.KVM_VcpuPaused[0]
    assert not machine.enabled("KVM.RunVcpu", 1, 0)


USR = 0b10000
EC_HVC = 0x12


def test_an_hvc_from_the_guest_kernel_traps_with_its_immediate(model: Model) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestHVC", 1, 0xBEEF)
    assert not machine.state.KVM_PEInGuest[1]
    # §B3.13.6: EC 0x12, IL set (a 32-bit instruction), the ISS the call's 16-bit immediate.
    assert machine.on(1).HSR == (EC_HVC << 26) | (1 << 25) | 0xBEEF


def test_an_hvc_from_guest_user_mode_is_undefined_in_the_guest(model: Model) -> None:
    """§B9.3: HVC is UNDEFINED in User mode; the guest takes it in its own Undefined mode, at
    VBAR + 0x04, with no exit."""
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestChangeMode", 1, USR)
    step(machine, "KVM.GuestHVC", 1, 0xBEEF)
    state = machine.on(1)
    assert machine.state.KVM_PEInGuest[1]
    assert state.CPSR & 0x1F == UNDEF and state._PC == 0x04


@pytest.mark.parametrize("function", [PSCI_CPU_SUSPEND, 0x12345678])
def test_a_call_kvm_does_not_implement_is_answered_with_minus_one(model: Model, function: int) -> None:
    machine = _guest_on_pe1(model)
    step(machine, "KVM.GuestWriteCore", 1, 0, SVC, function)
    step(machine, "KVM.GuestHVC", 1, 0)
    cpsr = context_word(machine, CPSR_WORD)
    step(machine, "KVM.HandleCall", 0, 0)
    assert context_word(machine, R0_WORD) == 0xFFFFFFFF  # PSCI's NOT_IMPLEMENTED, SMCCC's NOT_SUPPORTED
    assert context_word(machine, CPSR_WORD) == cpsr  # no exception: the guest carries on
    step(machine, "KVM.RunVcpu", 1, 0)


PSCI_CPU_ON = 0x95C1BA60
PSCI_RET_INVAL = 0xFFFFFFFE
RESET_CPSR = 0x1D3  # Supervisor mode, A, I and F masked (kvm_reset_vcpu)
MPIDR_WORD, VFP_BASE = 38, 68


def _two_vcpus_one_off(model: Model) -> Machine:
    """VM 0 with vCPUs 0 and 1 (numbers 0 and 1); vCPU 1 has run, changed r5 and turned itself
    off; vCPU 0 runs on PE 1."""
    machine = Machine(model, 2)
    for name, args in [("KVM.BootPE", (0,)), ("KVM.BootPE", (1,)), ("KVM.CreateVM", (0, 0, 0x10, 0)),
                       ("KVM.CreateVcpu", (0, 0, 0, 0)), ("KVM.CreateVcpu", (0, 1, 0, 1)),
                       ("KVM.UpdateVTTBR", (1, 0)), ("KVM.RunVcpu", (1, 1)),
                       ("KVM.GuestWriteCore", (1, 5, SVC, 0x1234)),
                       ("KVM.GuestWriteCore", (1, 0, SVC, PSCI_CPU_OFF)), ("KVM.GuestHVC", (1, 0)),
                       ("KVM.HandleCall", (0, 1)), ("KVM.RunVcpu", (1, 0))]:
        step(machine, name, *args)
    return machine


def _cpu_on(machine: Machine, number: int, entry: int) -> int:
    for register, value in [(0, PSCI_CPU_ON), (1, number), (2, entry)]:
        step(machine, "KVM.GuestWriteCore", 1, register, SVC, value)
    step(machine, "KVM.GuestHVC", 1, 0)
    step(machine, "KVM.HandleCall", 0, 0)
    return context_word(machine, R0_WORD)


def _vcpu_word(machine: Machine, v: int, word: int) -> int:
    return machine.state.KVM_VcpuCtx[(v << 7) | word]


def test_cpu_on_restarts_the_vcpu_from_reset_at_the_entry_point(model: Model) -> None:
    machine = _two_vcpus_one_off(model)
    assert _vcpu_word(machine, 1, 5) == 0x1234
    assert _cpu_on(machine, 1, 0x8000) == 0  # KVM_PSCI_RET_SUCCESS
    assert not machine.state.KVM_VcpuPaused[1]
    assert _vcpu_word(machine, 1, PC_WORD) == 0x8000
    assert _vcpu_word(machine, 1, CPSR_WORD) == RESET_CPSR
    # Every other core and CP15 word as a new vCPU has it (kvm_reset_vcpu), MPIDR its own.
    step(machine, "KVM.CreateVcpu", 0, 2, 0, 2)
    for word in range(VFP_BASE):
        if word not in (PC_WORD, CPSR_WORD, MPIDR_WORD):
            assert _vcpu_word(machine, 1, word) == _vcpu_word(machine, 2, word), word
    assert _vcpu_word(machine, 1, MPIDR_WORD) == 0x80000001
    step(machine, "KVM.RunVcpu", 0, 1)


def test_cpu_on_at_an_odd_address_starts_in_thumb_state(model: Model) -> None:
    machine = _two_vcpus_one_off(model)
    assert _cpu_on(machine, 1, 0x8001) == 0
    assert _vcpu_word(machine, 1, PC_WORD) == 0x8000
    assert _vcpu_word(machine, 1, CPSR_WORD) == RESET_CPSR | 0x20  # CPSR.T


@pytest.mark.parametrize(("number", "entry"), [
    (7, 0x8000),   # no vCPU 7 in the VM
    (0, 0x8000),   # vCPU 0, the caller, is not off
    (1, 0x8002),   # ARM state, but not word-aligned: no exception return could branch there
])
def test_cpu_on_refuses_what_it_cannot_start(model: Model, number: int, entry: int) -> None:
    machine = _two_vcpus_one_off(model)
    assert _cpu_on(machine, number, entry) == PSCI_RET_INVAL
    assert machine.state.KVM_VcpuPaused[1]
    assert _vcpu_word(machine, 1, 5) == 0x1234
