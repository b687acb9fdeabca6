"""Interrupts and the virtual timer in the KVM/ARM model (proofs/kvm-interrupts.md), run: a
guest that masks its interrupts still loses the PE to a physical IRQ, each guest counts its own
VM's time, a guest's armed virtual timer is stopped when it leaves and armed again when it
returns, and a vCPU idling in WFI sleeps until its line is raised, even when the raise races its
thread's way to sleep, with every invariant checked after every step. The expected values are the
architecture's (ARM DDI 0406C.d §B1.8.4: HCR.IMO and FMO send physical interrupts taken outside
Hyp mode to Hyp mode; §B8.1.3: the virtual count is the physical count less CNTVOFF) and Linux
3.10's (`kvm_reset_vcpu` starts a vCPU with A, I and F masked; `save_timer_state` clears
CNTV_CTL.ENABLE and zeroes CNTVOFF; `kvm_vcpu_block` queues itself before it checks), worked out
here."""

from __future__ import annotations

import pytest

from hypspec.model.machine import Machine
from hypspec.model.program import Model, load_model
from tests.helpers.model_steps import context_word, step

CPSR_I, CPSR_F = 1 << 7, 1 << 6
HCR_FMO, HCR_IMO, HCR_VI = 1 << 3, 1 << 4, 1 << 7
ARM_EXCEPTION_IRQ = 5  # arch/arm/include/asm/kvm_asm.h
CPSR_WORD = 16  # KVM.GP_CPSR
TIMER_BASE = 116  # KVM.TimerBase: the saved CNTV_CTL, then CNTV_CVAL
OFFSETS = {0: 0x1000, 1: 0x0000_5000_0000_0000}  # each VM's CNTVOFF
# Where a vCPU's thread is in kvm_vcpu_block (models/kvm_arm/03-highvisor.md, KVM.HALT_*).
HALT_NONE, HALT_QUEUED, HALT_ASLEEP, HALT_CHECKED = 0, 1, 2, 3


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def _two_vms(model: Model) -> Machine:
    """VM 0 and VM 1, with different virtual offsets, and vCPU `vm` of each; both PEs booted."""
    machine = Machine(model, 2)
    step(machine, "KVM.BootPE", 0)
    step(machine, "KVM.BootPE", 1)
    for vm, offset in OFFSETS.items():
        step(machine, "KVM.CreateVM", 0, vm, 0x10 + 2 * vm, offset)
        step(machine, "KVM.UpdateVTTBR", 0, vm)
        step(machine, "KVM.CreateVcpu", 0, vm, vm, 0)
    return machine


def _sysreg(model: Model, name: str) -> int:
    return model.spec.program.enums["Model.SysReg"].members.index(f"SysReg_{name}")


def test_a_guest_that_masks_interrupts_still_gives_them_to_the_host(model: Model) -> None:
    machine = _two_vms(model)
    step(machine, "KVM.RunVcpu", 0, 0)
    bank = machine.bank(0)
    assert bank["CPSR"] & (CPSR_I | CPSR_F) == CPSR_I | CPSR_F  # masked, as kvm_reset_vcpu leaves it
    assert bank["HCR"] & (HCR_IMO | HCR_FMO) == HCR_IMO | HCR_FMO
    step(machine, "KVM.PhysicalIRQ", 0)
    assert not machine.state.KVM_PEInGuest[0]  # the host has the PE back
    assert machine.state.KVM_VcpuExit[0] & 0xFFFFFFFF == ARM_EXCEPTION_IRQ
    assert context_word(machine, CPSR_WORD) & (CPSR_I | CPSR_F) == CPSR_I | CPSR_F  # the guest took nothing


def test_each_guest_counts_its_own_vms_time(model: Model) -> None:
    machine = _two_vms(model)
    step(machine, "KVM.RunVcpu", 0, 1)
    step(machine, "KVM.RunVcpu", 1, 0)
    assert machine.bank(0)["CNTVOFF"] == OFFSETS[1]
    assert machine.bank(1)["CNTVOFF"] == OFFSETS[0]
    step(machine, "KVM.GuestWFI", 0)
    assert machine.bank(0)["CNTVOFF"] == 0  # the host's virtual count is its physical count
    assert machine.bank(1)["CNTVOFF"] == OFFSETS[0]


def test_an_armed_virtual_timer_stops_when_its_guest_leaves_and_restarts_on_return(model: Model) -> None:
    machine = _two_vms(model)
    step(machine, "KVM.RunVcpu", 0, 0)
    step(machine, "KVM.GuestWriteSysReg", 0, _sysreg(model, "CNTV_CVAL"), 0)
    # enabled and not masked: with the compare value 0 it fires at once
    step(machine, "KVM.GuestWriteSysReg", 0, _sysreg(model, "CNTV_CTL"), 1)
    assert machine.bank(0)["CNTV_CTL"] & 0b11 == 0b01
    step(machine, "KVM.GuestWFI", 0)
    assert machine.bank(0)["CNTV_CTL"] & 1 == 0  # the host runs with it off
    assert context_word(machine, TIMER_BASE) & 0b11 == 0b01  # kept for the vCPU
    step(machine, "KVM.HandleExit", 0, 0)
    step(machine, "KVM.RunVcpu", 0, 1)  # another VM's vCPU on the same PE: its own timer, still off
    assert machine.bank(0)["CNTV_CTL"] & 1 == 0 and machine.bank(0)["CNTVOFF"] == OFFSETS[1]
    step(machine, "KVM.GuestWFI", 0)
    step(machine, "KVM.HandleExit", 0, 1)
    _wake(machine, 0)
    step(machine, "KVM.RunVcpu", 0, 0)
    assert machine.bank(0)["CNTV_CTL"] & 0b11 == 0b01 and machine.bank(0)["CNTVOFF"] == OFFSETS[0]


def _wake(machine: Machine, v: int) -> None:
    """The host raises vCPU `v`'s virtual IRQ line and kicks it; its waiting thread, which has not
    checked yet, sees the line and goes back to the run loop."""
    step(machine, "KVM.SetIrqLine", 0, v, False, True)
    step(machine, "KVM.KickVcpu", 0, v)
    step(machine, "KVM.VcpuCheckRunnable", 0, v)
    assert machine.state.KVM_VcpuHalt[v] == HALT_NONE


def _waiting(model: Model) -> Machine:
    """vCPU 0 of VM 0 has idled in WFI and its thread is on its wait queue."""
    machine = _two_vms(model)
    step(machine, "KVM.RunVcpu", 0, 0)
    step(machine, "KVM.GuestWFI", 0)
    step(machine, "KVM.HandleExit", 0, 0)
    assert machine.state.KVM_VcpuHalt[0] == HALT_QUEUED
    assert not machine.enabled("KVM.RunVcpu", 0, 0)  # its thread is in kvm_vcpu_block
    return machine


def test_a_vcpu_with_nothing_to_do_sleeps_until_its_line_is_raised(model: Model) -> None:
    machine = _waiting(model)
    step(machine, "KVM.VcpuCheckRunnable", 0, 0)
    step(machine, "KVM.VcpuSchedule", 0, 0)
    assert machine.state.KVM_VcpuHalt[0] == HALT_ASLEEP
    assert not machine.enabled("KVM.VcpuCheckRunnable", 0, 0)  # nothing runs its thread
    step(machine, "KVM.SetIrqLine", 0, 0, False, True)
    assert machine.state.KVM_VcpuHalt[0] == HALT_ASLEEP  # until the kick
    step(machine, "KVM.KickVcpu", 0, 0)
    step(machine, "KVM.VcpuCheckRunnable", 0, 0)
    step(machine, "KVM.RunVcpu", 0, 0)
    assert machine.bank(0)["HCR"] & HCR_VI  # the line reaches the guest as a virtual IRQ


def test_a_wake_up_between_the_check_and_the_sleep_is_not_lost(model: Model) -> None:
    """The race the wait loop's order exists for: the thread has found nothing to do, and before it
    calls schedule() the host raises the line and kicks it. The kick finds it on the queue and sets
    it running, so schedule() returns and the loop checks again."""
    machine = _waiting(model)
    step(machine, "KVM.VcpuCheckRunnable", 0, 0)
    assert machine.state.KVM_VcpuHalt[0] == HALT_CHECKED
    step(machine, "KVM.SetIrqLine", 0, 0, False, True)
    step(machine, "KVM.KickVcpu", 0, 0)
    step(machine, "KVM.VcpuSchedule", 0, 0)
    assert machine.state.KVM_VcpuHalt[0] == HALT_QUEUED  # round the loop, not asleep
    step(machine, "KVM.VcpuCheckRunnable", 0, 0)
    assert machine.state.KVM_VcpuHalt[0] == HALT_NONE
