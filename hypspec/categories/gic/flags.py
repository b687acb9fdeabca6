"""Flags of `gic` vectors that name the cases where the spec and QEMU 7.2 are known to differ.

A deviation entry (hypspec/conformance/known_deviations.toml) matches a disagreement only if the
vector carries the entry's flags, so each flag here is a precise condition on the state a vector
sets up, computed from that state as the spec holds it, never by running a variant of the spec.
The vector's own steps are run on the spec (`Board.Read`/`Board.Write` at the count the GIC
vectors use), and before every guest read of GICV_IAR, GICV_HPPIR, GICV_AIAR or GICV_AHPPIR the
virtual interface state is read back through `GICH.Read` (GICH_HCR, GICH_VMCR, GICH_APR,
GICH_LR0-3): those registers are the whole state the virtual CPU interface chooses from. The
conditions are then evaluated on the register values, with the field layouts of ARM IHI 0048B.b
§5.3 (GICH_LRn: HW[31], Grp1[30], State[29:28], Priority[27:23], PhysicalID[19:10] or EOI[19] and
CPUID[12:10], VirtualID[9:0]; GICH_VMCR: VMPriMask[31:27], VMBP[23:21], VMABP[20:18], VMCBPR[4],
VMGrp1En[1], VMGrp0En[0]; GICH_APR: bit n for group priority 8n; GICH_HCR.En[0]):

* ``VGROUP_DISABLED_PENDING``: the interface is enabled, the list register a group-blind choice
  takes (the highest-priority one in the pending state whose priority passes the priority mask,
  the lowest-numbered among equals) belongs to a group the guest has disabled, and the guest
  enables the other group. The spec (IHI 0048B.b `ReadGICC_IAR()`) answers 1023; QEMU 7.2, which
  applies the group enables only when both are clear, reports and acknowledges that interrupt.
* ``GROUP_PRIORITY_PREEMPTS``: at a GICV_IAR read, the same list register, of an enabled group,
  is preempting or not depending on the comparison: the spec compares its priority with the
  running priority masked to its group priority bits (`UpdateExceptionState()`), QEMU 7.2 with
  the unmasked running priority. They decide differently only when a GICH_APR bit is finer than
  the group size of the binary point in force.
* ``HW_VIRTUAL_SGI``: the chosen list register has the HW bit, a virtual ID below 16 (an SGI)
  and a non-zero PhysicalID<2:0>. The spec gives such an interrupt no source CPU (CPUID exists
  only in a software entry), QEMU 7.2 returns PhysicalID<2:0> in bits [12:10] of GICV_IAR and
  GICV_HPPIR.

The flags are computed by a `FlagObserver` that `hypspec.categories.gic.generate.Maker.make` passes to the
run that also computes the vector's expectations (`vector_flags()` does the same on its own run).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypspec.categories.script.steps import GICV_BASE, Step

VGROUP_DISABLED_PENDING = "VGROUP_DISABLED_PENDING"
GROUP_PRIORITY_PREEMPTS = "GROUP_PRIORITY_PREEMPTS"
HW_VIRTUAL_SGI = "HW_VIRTUAL_SGI"

#: GICV offsets (IHI 0048B.b §5.5, the CPU interface layout) of the reads that choose a list
#: register, and which of them acknowledge.
CHOOSING_READS = {0x00C: True, 0x018: False, 0x020: True, 0x028: False}
#: GICH offsets (§5.3): GICH_HCR, GICH_VMCR, GICH_APR, GICH_LR0-3.
HCR, VMCR, APR, LR0 = 0x000, 0x008, 0x0F0, 0x100
PENDING = 0b01
IDLE = 256


@dataclass(frozen=True)
class VirtualInterface:
    """The GICH registers the virtual CPU interface chooses from."""

    hcr: int
    vmcr: int
    apr: int
    lrs: tuple[int, ...]

    @property
    def enabled(self) -> bool:
        return bool(self.hcr & 1)

    @property
    def priority_mask(self) -> int:
        return (self.vmcr >> 27 & 0x1F) << 3

    def group_enabled(self, group1: bool) -> bool:
        return bool(self.vmcr >> (1 if group1 else 0) & 1)

    def running_priority(self) -> int:
        """8 × the lowest set bit of GICH_APR, or IDLE when it is zero."""
        if self.apr == 0:
            return IDLE
        return 8 * ((self.apr & -self.apr).bit_length() - 1)

    def group_mask(self, entry: int) -> int:
        """The group priority bits of `entry`'s priority: bits [7:VMABP] for Group 1 without
        VMCBPR, bits [7:VMBP+1] otherwise (§3.3, §5.4)."""
        if is_group1(entry) and not self.vmcr >> 4 & 1:
            shift = self.vmcr >> 18 & 7
        else:
            shift = (self.vmcr >> 21 & 7) + 1
        return 0xFF << shift & 0xFF

    def chosen(self) -> int | None:
        """The list register a choice blind to the group enables takes: in the pending state,
        priority below the mask, highest priority, lowest index among equals."""
        best: int | None = None
        for index, entry in enumerate(self.lrs):
            if entry >> 28 & 3 != PENDING or priority(entry) >= self.priority_mask:
                continue
            if best is None or priority(entry) < priority(self.lrs[best]):
                best = index
        return best


def priority(entry: int) -> int:
    return (entry >> 23 & 0x1F) << 3


def is_group1(entry: int) -> bool:
    return bool(entry >> 30 & 1)


def group_disabled_pending(vi: VirtualInterface) -> bool:
    chosen = vi.chosen()
    if not vi.enabled or chosen is None:
        return False
    group1 = is_group1(vi.lrs[chosen])
    return not vi.group_enabled(group1) and vi.group_enabled(not group1)


def preemption_differs(vi: VirtualInterface) -> bool:
    chosen = vi.chosen()
    if not vi.enabled or chosen is None:
        return False
    entry = vi.lrs[chosen]
    running = vi.running_priority()
    if not vi.group_enabled(is_group1(entry)) or running == IDLE:
        return False
    masked = priority(entry) < running & vi.group_mask(entry)
    return masked != (priority(entry) < running)


def hardware_virtual_sgi(vi: VirtualInterface) -> bool:
    chosen = vi.chosen()
    if not vi.enabled or chosen is None:
        return False
    entry = vi.lrs[chosen]
    return bool(entry >> 31) and entry & 0x3FF < 16 and entry >> 10 & 7 != 0


def read_virtual_interface(spec: Any, state: Any) -> VirtualInterface:
    """The GICH registers as the spec holds them in `state` (GICH.Read has no side effects)."""
    read = spec.compiled.function("GICH.Read")
    lrs = tuple(int(read(state, LR0 + 4 * n)) for n in range(4))
    return VirtualInterface(int(read(state, HCR)), int(read(state, VMCR)), int(read(state, APR)), lrs)


def flags_at(vi: VirtualInterface, acknowledges: bool) -> set[str]:
    """The flags of the state a choosing read (an acknowledge when `acknowledges`) is made in."""
    found = set()
    if group_disabled_pending(vi):
        found.add(VGROUP_DISABLED_PENDING)
    if acknowledges and preemption_differs(vi):
        found.add(GROUP_PRIORITY_PREEMPTS)
    if hardware_virtual_sgi(vi):
        found.add(HW_VIRTUAL_SGI)
    return found


def choosing_read(step: Step) -> bool | None:
    """For a guest read of GICV_IAR, HPPIR, AIAR or AHPPIR, whether it acknowledges; else None."""
    if step.el == "hyp" or step.op != "read" or step.target != "mmio":
        return None
    return CHOOSING_READS.get(step.address - GICV_BASE)


class FlagObserver:
    """Collects the flags of one vector while the generator runs its steps on the spec: called
    with the state before each step (`hypspec.categories.gic.generate.Machine.run`), it reads the virtual
    interface back only before a choosing read, and never draws from the state's oracle."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.found: set[str] = set()

    def __call__(self, state: Any, step: Step) -> None:
        if step.target != "mmio":
            raise ValueError(f"a gic vector step is an MMIO access, not {step}")
        acknowledges = choosing_read(step)
        if acknowledges is None:
            return
        drawn = len(state.oracle.chosen)
        self.found |= flags_at(read_virtual_interface(self.spec, state), acknowledges)
        assert len(state.oracle.chosen) == drawn, "reading GICH back drew an UNKNOWN"

    @property
    def flags(self) -> list[str]:
        return sorted(self.found)


def vector_flags(machine: Any, steps: Sequence[Step]) -> list[str]:
    """The flags of a vector whose own steps (after the prelude) are `steps`, from a run of the
    steps on the spec from `machine`'s quiesced state (`hypspec.categories.gic.generate.Machine`)."""
    observer = FlagObserver(machine.spec)
    machine.run(list(steps), observe=observer)
    return observer.flags


__all__ = [
    "GROUP_PRIORITY_PREEMPTS",
    "HW_VIRTUAL_SGI",
    "VGROUP_DISABLED_PENDING",
    "FlagObserver",
    "VirtualInterface",
    "flags_at",
    "group_disabled_pending",
    "hardware_virtual_sgi",
    "preemption_differs",
    "read_virtual_interface",
    "vector_flags",
]
