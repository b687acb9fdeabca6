"""The KVM/ARM model's memory part (models/kvm_arm/05-memory.md), run: what a guest reaches
through its stage 2 tables and its TLB while the host changes them, a VMID rollover, and the
Linux 3.10 memory-slot finding played out to the store that lands in the host's page."""

from __future__ import annotations

import pytest

from hypspec.api import MODEL_DIR, ROOT, Spec, proof_tree
from hypspec.concrete.runtime import Oracle, SpecAssertionError
from hypspec.model.machine import Machine
from hypspec.model.program import Model, load_model
from hypspec.model.scenarios import read_scenarios
from hypspec.proof.mutants import patched_tree, read_variants

PAGE, L2, L3, PGD = 0x20, 0x18, 0x19, 0x10
# PhysMem is keyed by physical address bits 39:3: the first word of a page.
FIRST_WORD = 9
# KVM.Owner of a page of VM 0's memory: kind '10', written out from the chapter's layout.
MEMORY_OF_VM0 = 0b10 << 30
# CPSR.M of Supervisor mode, the mode a vCPU starts in.
SVC = 0b10011


def _unknown_at(chapter: str, text: str) -> str:
    """The oracle location of the UNKNOWN written as `text` in a chapter of spec/."""
    lines = (ROOT / "spec" / chapter).read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, start=1):
        if text in line:
            return f"{chapter}:{number}:{line.index(text) + 1}"
    raise AssertionError(f"{text!r} is not in spec/{chapter}")


# Whether an access with a valid TLB entry takes it (1) or walks the tables again (0).
TLB_HIT = _unknown_at("14-tlb.md", "boolean UNKNOWN")


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def _machine(model: Model, hit: bool) -> Machine:
    return Machine.with_oracle(model, 2, Oracle(0, overrides={TLB_HIT: int(hit)}))


def _guest_on_pe1_with_page_cached(machine: Machine) -> None:
    """VM 0's vCPU runs on PE 1 with frame 0 mapped to PAGE and cached in PE 1's TLB."""
    for name, args in [("KVM.BootPE", (0,)), ("KVM.BootPE", (1,)), ("KVM.CreateVM", (0, 0, PGD, 0)),
                       ("KVM.SetMemslotPage", (0, 0, 0, PAGE)), ("KVM.MapPage", (0, 0, 0, L2, L3, True)),
                       ("KVM.CreateVcpu", (0, 0, 0, 0)), ("KVM.UpdateVTTBR", (1, 0)), ("KVM.RunVcpu", (1, 0)),
                       ("KVM.GuestTLBFill", (1, 0))]:
        assert machine.enabled(name, *args), name
        machine.run(name, *args)


def _store(machine: Machine, frame: int, offset: int, value: int) -> None:
    """The guest on PE 1, in Supervisor mode, puts `value` in R2 and stores R2 at `frame : offset`."""
    machine.run("KVM.GuestWriteCore", 1, 2, SVC, value)
    machine.run("KVM.GuestStore", 1, frame, offset, 2)


def test_a_store_through_the_tables_lands_in_the_slot_page(model: Model) -> None:
    machine = _machine(model, hit=False)
    _guest_on_pe1_with_page_cached(machine)
    _store(machine, 0, 3, 0xCAFE)
    assert machine.state.PhysMem[(PAGE << FIRST_WORD) | 1] == 0xCAFE << 32
    assert machine.state.KVM_PEInGuest[1]
    assert machine.violations() == []


def test_a_stale_entry_serves_the_guest_until_the_flush_and_then_the_store_exits(model: Model) -> None:
    """The MMU notifier clears the entry on PE 0; until PE 0's invalidation the guest on PE 1 may
    still store through its TLB entry, into the page that is still its VM's; afterwards the same
    store faults and leaves the guest, and only then may the host take the page back."""
    machine = _machine(model, hit=True)
    _guest_on_pe1_with_page_cached(machine)
    machine.run("KVM.UnmapPage", 0, 0, 0)
    machine.run("KVM.InvalidateMemslotPage", 0, 0, 0)  # waits: the invalidation is owed (mmu_lock)
    machine.run("KVM.ReleasePage", 0, PAGE)  # waits: the page is still in its slot
    assert machine.state.KVM_PageOwner[PAGE] == MEMORY_OF_VM0
    assert machine.state.KVM_Memslot[0] >> 28 == 1
    _store(machine, 0, 0, 0x5A)
    assert machine.state.PhysMem[PAGE << FIRST_WORD] == 0x5A
    assert machine.state.KVM_PEInGuest[1]
    machine.run("KVM.FlushVMIDIPA", 0, 0)
    assert not any(entry >> 94 & 1 for entry in machine.state.TLB_S2.values())
    _store(machine, 0, 0, 0x77)
    assert not machine.state.KVM_PEInGuest[1]  # a stage 2 fault: an exit
    assert machine.state.KVM_VcpuExit[0] >> 58 == 0x24  # HSR.EC: a data abort from a lower level
    machine.run("KVM.ReleasePage", 0, PAGE)  # waits: the page is still in its slot
    assert machine.state.KVM_PageOwner[PAGE] == MEMORY_OF_VM0
    machine.run("KVM.InvalidateMemslotPage", 0, 0, 0)
    machine.run("KVM.DeleteMemslotPage", 0, 0, 0)
    machine.run("KVM.ReleasePage", 0, PAGE)
    assert machine.state.KVM_PageOwner[PAGE] == 0
    assert machine.violations() == []


def test_a_rollover_waits_for_every_guest_and_then_every_vmid_is_fresh(model: Model) -> None:
    scenario = next(s for s in read_scenarios(model, MODEL_DIR) if s.name == "vmids-used-up")
    machine = Machine(model, 2)
    for step, args in scenario.steps:
        machine.run(step.name, *args)
    state = machine.state
    assert state.KVM_VMIDGen == 2 and state.KVM_NextVMID == 1 and state.KVM_VMIDLock == 1
    assert not machine.enabled("KVM.FlushVMContext", 0)  # PE 1 still runs VM 0 with VMID 1
    assert not machine.enabled("KVM.UpdateVTTBR", 1, 0)  # the lock is held
    machine.run("KVM.PhysicalIRQ", 1)
    machine.run("KVM.FlushVMContext", 0)
    assert not any(entry >> 94 & 1 for entry in state.TLB_S2.values())
    machine.run("KVM.UpdateVTTBR", 0, 255)
    assert state.KVM_VMVTTBR[255] >> 48 == 1  # VMID 1 again, in the new generation
    assert not machine.enabled("KVM.RunVcpu", 1, 0)  # VM 0's VMID is stale
    machine.run("KVM.UpdateVTTBR", 1, 0)
    assert state.KVM_VMVTTBR[0] >> 48 == 2
    assert machine.violations() == []


def _linux_3_10_memslot() -> list:
    return [v for v in read_variants() if "UnmapOnMemslotDelete" in v.find]


def _delete_then_release(machine: Machine) -> None:
    """The VMM deletes frame 0 from VM 0's slots, the host takes the page back, and the guest on
    PE 1 (whose TLB no longer has the entry) stores to frame 0."""
    machine.run("KVM.InvalidateMemslotPage", 0, 0, 0)
    if machine.enabled("KVM.FlushVMIDIPA", 0, 0):
        machine.run("KVM.FlushVMIDIPA", 0, 0)
    machine.run("KVM.DeleteMemslotPage", 0, 0, 0)
    machine.run("KVM.ReleasePage", 0, PAGE)
    _store(machine, 0, 0, 0xBAD)


def test_linux_3_10_lets_a_guest_store_into_a_page_the_host_took_back() -> None:
    """The finding, played out: 3.10 leaves the entry when the slot goes, the MMU notifier finds
    no slot for the page, the host takes it back, and the guest's next store lands in it (the
    store's assert, which the fixed model proves, fails)."""
    (patch,) = _linux_3_10_memslot()
    with patched_tree(patch) as root:
        variant = Model(Spec.load(*proof_tree(root)))
        machine = _machine(variant, hit=False)
        _guest_on_pe1_with_page_cached(machine)
        machine.run("KVM.PhysicalIRQ", 1)  # an exit: PE 1's entry is not what reaches the page
        machine.run("KVM.RunVcpu", 1, 0)
        with pytest.raises(SpecAssertionError, match=r"05-memory\.md"):
            _delete_then_release(machine)


def test_the_fixed_model_unmaps_on_delete_and_the_store_faults(model: Model) -> None:
    machine = _machine(model, hit=False)
    _guest_on_pe1_with_page_cached(machine)
    machine.run("KVM.PhysicalIRQ", 1)
    machine.run("KVM.RunVcpu", 1, 0)
    _delete_then_release(machine)
    assert not machine.state.KVM_PEInGuest[1]
    assert machine.state.PhysMem.get(PAGE << FIRST_WORD, 0) == 0
    assert machine.violations() == []


def test_the_witnesses_name_what_the_state_holds(model: Model) -> None:
    """The machine checks the invariants at the witnesses' values too, as the prover assumes them:
    the running VM, the next VMID and each VM's VMID are among the instances."""
    machine = _machine(model, hit=False)
    _guest_on_pe1_with_page_cached(machine)
    step = model.invariant("KVM.Inv.TLBTags")
    assert {0, 1, 2} <= set(machine.values(step, 1, step.params[1], machine.witnessed()))  # VMID 1, the next

