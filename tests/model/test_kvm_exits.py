"""The KVM/ARM model's exits (models/kvm_arm/06-exits.md), run: an MMIO load and store followed
from the guest's instruction through the syndrome, Linux 3.10's decode and the VMM's answer to
the guest's register, with every invariant checked after every step. The expected values are
the architecture's (ARM DDI 0406C.d: LDRSB sign-extends its byte, LDRH zero-extends its
halfword, an A32 instruction is four bytes), worked out here rather than read from the model."""

from __future__ import annotations

import pytest

from hypspec.model.machine import Machine
from hypspec.model.program import Model, load_model

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
        _run(machine, name, *args)
    _run(machine, "KVM.RunVcpu", 1, 0)
    return machine


def _run(machine: Machine, name: str, *args: int | bool) -> None:
    assert machine.enabled(name, *args), name
    machine.run(name, *args)
    assert machine.violations() == [], name


def _context(machine: Machine, word: int) -> int:
    return machine.state.KVM_VcpuCtx[word]  # vCPU 0's words are keyed 0 : word


def test_a_signed_byte_load_from_a_device_reaches_its_register_sign_extended(model: Model) -> None:
    machine = _guest_on_pe1(model)
    pc = _context(machine, PC_WORD)
    _run(machine, "KVM.GuestLoad", 1, DEVICE, 3, 0b00, True, 5)  # LDRSB r5, [0x10000c]
    assert not machine.state.KVM_PEInGuest[1]  # the stage 2 fault is an exit
    _run(machine, "KVM.HandleExit", 0, 0)
    request = machine.state.KVM_VcpuMMIO[0]
    assert request & EXIT_MMIO and request & (1 << 43) == 0  # KVM_EXIT_MMIO, a read
    assert request & ((1 << 40) - 1) == (DEVICE << 12) | (3 << 2)
    assert _context(machine, PC_WORD) == pc + 4  # 3.10 skips the instruction before the answer
    assert not machine.enabled("KVM.RunVcpu", 1, 0)  # KVM_RUN completes the load first
    _run(machine, "KVM.CompleteMMIO", 0, 0, 0x1280)  # the device answers 0x80 in the low byte
    assert _context(machine, 5) == 0xFFFFFF80
    assert machine.state.KVM_VcpuMMIO[0] & EXIT_MMIO == 0
    _run(machine, "KVM.RunVcpu", 1, 0)


def test_an_unsigned_halfword_load_into_a_banked_register_lands_in_that_bank(model: Model) -> None:
    machine = _guest_on_pe1(model)
    _run(machine, "KVM.GuestChangeMode", 1, IRQ)
    _run(machine, "KVM.GuestLoad", 1, DEVICE, 0, 0b01, False, 13)  # LDRH sp, [0x100000] in IRQ mode
    _run(machine, "KVM.HandleExit", 0, 0)
    _run(machine, "KVM.CompleteMMIO", 0, 0, 0xABCD8001)
    assert _context(machine, SP_IRQ_WORD) == 0x8001
    assert _context(machine, 13) == 0  # SP_usr, still as reset left it


def test_a_store_to_a_device_hands_the_register_to_the_vmm(model: Model) -> None:
    machine = _guest_on_pe1(model)
    _run(machine, "KVM.GuestWriteCore", 1, 7, SVC, 0xFEEDF00D)
    _run(machine, "KVM.GuestStore", 1, DEVICE, 1, 7)  # STR r7, [0x100004]
    _run(machine, "KVM.HandleExit", 0, 0)
    request = machine.state.KVM_VcpuMMIO[0]
    assert request & (1 << 43) and (request >> 40) & 7 == 4  # a write of four bytes
    assert machine.state.KVM_VcpuMMIOData[0] == 0xFEEDF00D
    _run(machine, "KVM.CompleteMMIO", 0, 0, 0x12345678)  # the answer of a store is ignored
    assert _context(machine, 7) == 0xFEEDF00D


def test_a_fault_inside_a_slot_is_not_mmio(model: Model) -> None:
    """A frame in the VM's slots but not mapped yet: the host maps it (KVM.MapPage), no MMIO."""
    machine = _guest_on_pe1(model)
    _run(machine, "KVM.SetMemslotPage", 0, 0, DEVICE, 0x1A)
    pc = _context(machine, PC_WORD)
    _run(machine, "KVM.GuestLoad", 1, DEVICE, 0, 0b10, False, 2)
    _run(machine, "KVM.HandleExit", 0, 0)
    assert machine.state.KVM_VcpuMMIO[0] & EXIT_MMIO == 0
    assert _context(machine, PC_WORD) == pc  # the guest executes the load again
