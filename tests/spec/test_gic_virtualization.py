"""The GICv2 virtualization extensions (spec/10): GICH and GICV worked examples, and a
differential test of both semantics.

Every list register value below is assembled by `lr()` from the GICH_LRn layout of ARM IHI
0048B.b §5.3 (VirtualID 9:0, PhysicalID 19:10 or EOI 19 and CPUID 12:10, Priority 27:23,
State 29:28, Grp1 30, HW 31); every expected register value is worked out by hand from the
field layouts of §5.3 (GICH_HCR, GICH_VMCR, GICH_MISR, GICH_EISRn, GICH_ELRSRn, GICH_APR) and
§5.4 / §4.4 (GICV_* and the GICC_* registers they mirror). The derivation is in each test.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec, State
from tests.helpers.agreement import agree
from tests.strategies import (
    GICV_ACKNOWLEDGE_OFFSETS,
    gic_virtual_states,
    gich_offsets,
    gicv_eoi_cases,
    gicv_offsets,
    gicv_pending_states,
    gicv_write_values,
)

# GICH offsets (IHI 0048B.b §5.3)
HCR, VTR, VMCR, MISR, EISR0, EISR1, ELRSR0, ELRSR1, APR = 0x0, 0x4, 0x8, 0x10, 0x20, 0x24, 0x30, 0x34, 0xF0
LR0 = 0x100
# GICV offsets (IHI 0048B.b §5.4)
CTLR, PMR, BPR, IAR, EOIR, RPR, HPPIR, ABPR = 0x0, 0x4, 0x8, 0xC, 0x10, 0x14, 0x18, 0x1C
AIAR, AEOIR, AHPPIR, APR0, IIDR, DIR = 0x20, 0x24, 0x28, 0xD0, 0xFC, 0x1000

INVALID, PENDING, ACTIVE, ACTIVE_PENDING = 0b00, 0b01, 0b10, 0b11
# GICH_HCR bits
EN, UIE, LRENPIE, NPIE = 1 << 0, 1 << 1, 1 << 2, 1 << 3
VGRP0EIE, VGRP0DIE, VGRP1EIE, VGRP1DIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7
# GICV_CTLR bits (the same positions in GICH_VMCR)
ENABLEGRP0, ENABLEGRP1, ACKCTL, FIQEN, CBPR, EOIMODE = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 9


def lr(vid: int, state: int, prio: int, *, grp1: int = 0, hw: int = 0, pid: int = 0, eoi: int = 0,
       cpuid: int = 0) -> int:
    """A GICH_LRn value; `prio` is the 8-bit priority (its low three bits are not stored)."""
    low = pid << 10 if hw else eoi << 19 | cpuid << 10
    return hw << 31 | grp1 << 30 | state << 28 | (prio >> 3) << 23 | low | vid


class VGIC:
    """One processor's GICH and GICV frames over a concrete state."""

    def __init__(self, spec: Spec, **registers: Any) -> None:
        self.spec = spec
        self.state: State = spec.state(**registers)

    def gich(self, offset: int) -> int:
        return self.spec.call("GICH.Read", offset, state=self.state)

    def gich_write(self, offset: int, value: int) -> None:
        self.spec.call("GICH.Write", offset, value, state=self.state)

    def gicv(self, offset: int) -> int:
        return self.spec.call("GICV.Read", offset, state=self.state)

    def gicv_write(self, offset: int, value: int) -> None:
        self.spec.call("GICV.Write", offset, value, state=self.state)

    def lr(self, n: int) -> int:
        return self.gich(LR0 + 4 * n)

    def maintenance(self) -> bool:
        return self.spec.call("GICH.MaintenanceInterrupt", state=self.state)

    def virq(self) -> bool:
        return self.spec.call("GICV.VirtualIRQSignalled", state=self.state)

    def vfiq(self) -> bool:
        return self.spec.call("GICV.VirtualFIQSignalled", state=self.state)


def guest(spec: Spec, *lrs: int, hcr: int = EN, ctlr: int = ENABLEGRP0, pmr: int = 0xF8, **more: Any) -> VGIC:
    """A vCPU whose hypervisor wrote GICH_HCR and the list registers `lrs`, and whose guest
    enabled its interface through GICV_CTLR and GICV_PMR."""
    g = VGIC(spec, GICH_HCR=hcr, **{f"GICH_LR{n}": v for n, v in enumerate(lrs)}, **more)
    g.gicv_write(CTLR, ctlr)
    g.gicv_write(PMR, pmr)
    return g


# ---- reset, identification and the control registers -----------------------------------


def test_reset_values(spec: Spec) -> None:
    g = VGIC(spec)
    assert g.gich(VTR) == 0x90000003  # PRIbits 4 (5 bits) <<29, PREbits 4 <<26, ListRegs 3
    assert g.gich(VMCR) == 0x004C0000  # VMBP 2 <<21 = 0x400000, VMABP 3 <<18 = 0xC0000
    assert g.gich(HCR) == 0 and g.gich(MISR) == 0 and g.gich(APR) == 0
    assert g.gich(ELRSR0) == 0xF  # four invalid LRs with EOI clear are empty: bits 3:0
    assert g.gich(EISR0) == 0
    assert [g.gicv(o) for o in (CTLR, PMR, BPR, ABPR)] == [0, 0, 2, 3]
    assert g.gicv(RPR) == 0xFF  # no active priority: idle
    assert g.gicv(IIDR) == 0x0002043B  # ArchVersion 2 <<16, implementer ARM 0x43B
    assert g.gicv(IAR) == 1023
    assert not g.maintenance() and not g.virq()


def test_vmcr_is_the_guest_view_of_ctlr_pmr_bpr(spec: Spec) -> None:
    g = VGIC(spec)
    g.gicv_write(PMR, 0xF8)
    g.gicv_write(CTLR, 1)
    # VMPriMask 0x1F <<27 = 0xF8000000, VMBP/VMABP reset 0x004C0000, VMGrp0En: QEMU reads 0xf84c0001
    assert g.gich(VMCR) == 0xF84C0001
    g.gich_write(VMCR, 0x80A40212)  # VMPriMask 0x10, VMBP 5, VMABP 1, VEM, VMCBPR, VMGrp1En
    assert g.gicv(PMR) == 0x80 and g.gicv(BPR) == 5
    assert g.gicv(ABPR) == 3  # VMABP 1 clamps to the minimum 3
    assert g.gicv(CTLR) == EOIMODE | CBPR | ENABLEGRP1


def test_vmcr_binary_points_clamp_to_the_minimum(spec: Spec) -> None:
    g = VGIC(spec)
    g.gich_write(VMCR, 0)
    assert g.gich(VMCR) == 0x004C0000  # VMBP 0 -> 2, VMABP 0 -> 3
    g.gich_write(VMCR, 0xFFFFFFFF)
    # reserved bits 26:24, 17:10, 8:5 stay zero: 0xF8000000 | 0x00E00000 | 0x001C0000 | 0x21F
    assert g.gich(VMCR) == 0xF8FC021F
    g.gicv_write(BPR, 0)
    g.gicv_write(ABPR, 1)
    assert (g.gicv(BPR), g.gicv(ABPR)) == (2, 3)
    g.gicv_write(BPR, 6)
    g.gicv_write(ABPR, 4)
    assert (g.gicv(BPR), g.gicv(ABPR)) == (6, 4)
    assert g.gich(VMCR) == 0xF8000000 | 6 << 21 | 4 << 18 | 0x21F


def test_guest_register_writes_keep_only_implemented_bits(spec: Spec) -> None:
    g = VGIC(spec)
    g.gicv_write(PMR, 0xFF)
    assert g.gicv(PMR) == 0xF8  # five priority bits: 2:0 RAZ/WI
    g.gicv_write(CTLR, 0xFFFFFFFF)
    assert g.gicv(CTLR) == 0x21F  # EOImode (9), CBPR, FIQEn, AckCtl, EnableGrp1, EnableGrp0
    g.gicv_write(IIDR, 0)
    assert g.gicv(IIDR) == 0x0002043B


def test_gich_writes_keep_only_defined_bits(spec: Spec) -> None:
    g = VGIC(spec)
    g.gich_write(HCR, 0xFFFFFFFF)
    assert g.gich(HCR) == 0xF80000FF  # EOICount 31:27 and the enables 7:0
    g.gich_write(LR0, 0xFFFFFFFF)
    assert g.lr(0) == 0xFF8FFFFF  # bits 22:20 reserved
    g.gich_write(VTR, 0)
    g.gich_write(MISR, 0xFF)
    assert g.gich(VTR) == 0x90000003


def test_list_registers_beyond_the_geometry_are_raz_wi(spec: Spec) -> None:
    g = VGIC(spec)
    g.gich_write(LR0 + 0x10, 0x10000005)  # GICH_LR4 does not exist with ListRegs = 3
    assert g.gich(LR0 + 0x10) == 0
    assert [g.lr(n) for n in range(4)] == [0, 0, 0, 0]
    assert g.gich(EISR1) == 0 and g.gich(ELRSR1) == 0  # list registers 32..63


# ---- the status registers ---------------------------------------------------------------


def test_elrsr_and_eisr(spec: Spec) -> None:
    g = VGIC(spec,
             GICH_LR0=lr(40, INVALID, 0x30, eoi=1),           # EOI request, not empty
             GICH_LR1=lr(41, INVALID, 0x30, hw=1, pid=0x200),  # HW: bit 19 is pINTID<9>, empty
             GICH_LR2=lr(42, PENDING, 0x30),                   # valid: neither
             GICH_LR3=lr(43, INVALID, 0x30))                   # plain empty
    assert g.gich(EISR0) == 0b0001
    assert g.gich(ELRSR0) == 0b1010


# ---- one worked example per maintenance interrupt cause --------------------------------


def test_maintenance_eoi(spec: Spec) -> None:
    g = VGIC(spec, GICH_HCR=EN, GICH_LR0=lr(40, INVALID, 0x30, eoi=1))
    assert g.gich(MISR) == 0x01 and g.maintenance()  # EISR0 != 0 -> MISR.EOI, no enable needed
    g.gich_write(HCR, 0)
    assert g.gich(MISR) == 0x01 and not g.maintenance()  # En = 0: status kept, no interrupt
    g.gich_write(HCR, EN)
    g.gich_write(LR0, 0)
    assert g.gich(MISR) == 0 and not g.maintenance()  # the hypervisor consumed the request


def test_maintenance_underflow(spec: Spec) -> None:
    g = VGIC(spec, GICH_HCR=EN | UIE, GICH_LR0=lr(32, PENDING, 0x80), GICH_LR1=lr(33, ACTIVE, 0x80))
    assert g.gich(MISR) == 0 and not g.maintenance()  # two valid entries
    g.gich_write(LR0 + 4, 0)
    assert g.gich(MISR) == 0x02 and g.maintenance()  # one valid entry: U
    g.gich_write(LR0, 0)
    assert g.gich(MISR) == 0x02  # none valid: still U


def test_maintenance_lr_entry_not_present(spec: Spec) -> None:
    g = guest(spec, hcr=EN | LRENPIE, GICH_APR=0x10)
    assert g.gich(MISR) == 0
    g.gicv_write(EOIR, 77)  # APR bit 4 dropped; no LR holds 77: EOICount 0 -> 1
    assert g.gich(HCR) == 1 << 27 | EN | LRENPIE
    assert g.gich(MISR) == 0x04 and g.maintenance()


def test_maintenance_no_pending(spec: Spec) -> None:
    g = VGIC(spec, GICH_HCR=EN | NPIE, GICH_LR0=lr(32, PENDING, 0x80))
    assert g.gich(MISR) == 0
    g.gich_write(LR0, lr(32, ACTIVE_PENDING, 0x80))
    assert g.gich(MISR) == 0x08 and g.maintenance()  # active and pending is not "pending"


def test_maintenance_group_enable_conditions(spec: Spec) -> None:
    cases = [  # (GICH_HCR enable, GICV_CTLR, expected MISR)
        (VGRP0EIE, ENABLEGRP0, 0x10), (VGRP0EIE, 0, 0x00),
        (VGRP0DIE, 0, 0x20), (VGRP0DIE, ENABLEGRP0, 0x00),
        (VGRP1EIE, ENABLEGRP1, 0x40), (VGRP1EIE, ENABLEGRP0, 0x00),
        (VGRP1DIE, ENABLEGRP0, 0x80), (VGRP1DIE, ENABLEGRP1, 0x00),
    ]
    for enable, ctlr, misr in cases:
        g = guest(spec, hcr=EN | enable, ctlr=ctlr)
        assert g.gich(MISR) == misr, (enable, ctlr)
        assert g.maintenance() == (misr != 0)


# ---- acknowledge and EOI through a list register ---------------------------------------


def test_qemu_probe_round_trip(spec: Spec) -> None:
    """conformance-anchors.md §4.3: LR0 pending SGI 5 from CPU 1 at priority 0x20, LR1 an
    invalid vINTID 40 with EOI at priority 0x30 (the values QEMU read back say so)."""
    lr0 = lr(5, PENDING, 0x20, cpuid=1)
    lr1 = lr(40, INVALID, 0x30, eoi=1)
    assert (lr0, lr1) == (0x12000405, 0x03080028)
    g = guest(spec, lr0, lr1, hcr=EN | UIE)
    assert g.gicv(IAR) == 0x405  # CPUID 1 <<10 | ID 5
    assert g.lr(0) == 0x22000405  # pending -> active
    assert g.gich(APR) == 0x10  # group priority 0x20 (BPR 2 keeps 7:3) -> bit 0x20 >> 3 = 4
    assert g.gicv(RPR) == 0x20
    assert g.gicv(APR0) == 0x10
    g.gicv_write(EOIR, 0x405)
    assert g.lr(0) == 0x02000405  # active -> invalid
    assert g.lr(1) == 0x03080028
    assert g.gich(EISR0) == 0x2  # LR1: invalid, HW 0, EOI 1
    assert g.gich(ELRSR0) == 0xD  # LR0, LR2, LR3 empty
    assert g.gich(MISR) == 0x3  # EOI | U (no valid entry, UIE)
    assert g.gich(APR) == 0 and g.gicv(RPR) == 0xFF
    assert g.gicv(IAR) == 0x3FF


def test_highest_priority_wins_and_ties_go_to_the_lowest_register(spec: Spec) -> None:
    g = guest(spec, lr(33, PENDING, 0x30), lr(34, PENDING, 0x10), lr(35, PENDING, 0x10))
    assert g.gicv(HPPIR) == 34
    assert g.gicv(IAR) == 34  # 0x10 beats 0x30; LR1 before LR2
    g.gicv_write(EOIR, 34)
    assert g.gicv(IAR) == 35
    assert g.gicv(IAR) == 1023  # 0x30 cannot preempt the running 0x10
    assert g.gich(APR) == 1 << 2


def test_nothing_to_acknowledge_reads_1023(spec: Spec) -> None:
    assert guest(spec).gicv(IAR) == 1023  # no list register valid
    assert guest(spec, lr(32, ACTIVE, 0x20)).gicv(IAR) == 1023  # only active entries
    assert guest(spec, lr(32, ACTIVE_PENDING, 0x20)).gicv(IAR) == 1023
    assert guest(spec, lr(32, PENDING, 0x20), pmr=0x20).gicv(IAR) == 1023  # not above the mask
    assert guest(spec, lr(32, PENDING, 0x20), ctlr=ENABLEGRP1).gicv(IAR) == 1023  # Group 0 off
    assert guest(spec, lr(32, PENDING, 0x20), hcr=0).gicv(IAR) == 1023  # interface disabled
    busy = guest(spec, lr(32, PENDING, 0x20), GICH_APR=1 << 4)  # running priority 0x20
    assert busy.gicv(IAR) == 1023 and busy.lr(0) == lr(32, PENDING, 0x20)
    assert guest(spec, lr(32, PENDING, 0x18), GICH_APR=1 << 4).gicv(IAR) == 32


def test_a_disabled_group_hides_what_it_holds(spec: Spec) -> None:
    """The choice ignores the guest's group enables (IHI 0048B.b pseudocode
    HighestPriorityPendingInterrupt(): the list registers stand in for the distributor); the
    enable of the chosen entry's group decides the answer (ReadGICC_IAR() answers 1023 for an
    interrupt of a disabled group). LR0 Group 1 at 0x10, LR1 Group 0 at 0x40, only Group 0 enabled:
    LR0 is chosen (0x10 < 0x40) and its group is off, so GICV_IAR and GICV_HPPIR read 1023 and
    LR1 is not acknowledged behind it; no virtual IRQ. (QEMU 7.2 reads 1022 from both.)"""
    g = guest(spec, lr(40, PENDING, 0x10, grp1=1), lr(41, PENDING, 0x40), ctlr=ENABLEGRP0)
    assert not g.virq() and not g.vfiq()
    assert g.gicv(HPPIR) == 1023 and g.gicv(IAR) == 1023 and g.gicv(AIAR) == 1023
    assert g.lr(0) == lr(40, PENDING, 0x10, grp1=1) and g.lr(1) == lr(41, PENDING, 0x40)
    assert g.gich(APR) == 0
    g.gicv_write(CTLR, ENABLEGRP0 | ENABLEGRP1 | ACKCTL)  # both groups: LR0 is taken
    assert g.virq() and g.gicv(IAR) == 40
    # Group 1, ABPR 3 (group bits 7:3): 0x10 -> GICH_APR bit 0x10 >> 3 = 2
    assert g.gich(APR) == 1 << 2 and g.lr(0) == lr(40, ACTIVE, 0x10, grp1=1)
    g.gicv_write(CTLR, ENABLEGRP1 | ACKCTL)  # LR1 (Group 0) is now chosen, and its group is off
    assert g.gicv(HPPIR) == 1023 and g.gicv(IAR) == 1023 and not g.virq()


def test_preemption_masks_the_running_priority(spec: Spec) -> None:
    """An entry preempts when its priority is higher than the running priority with the bits
    below its group priority cleared (pseudocode UpdateExceptionState()). GICH_APR bit 1: running
    priority 8. With GICV_BPR 2 (group bits 7:3) an entry at 0x00 preempts (0x00 < 8 AND 0xF8 =
    8); with GICV_BPR 4 (group bits 7:5) it does not (8 AND 0xE0 = 0). QEMU 7.2 compares 0x00
    with 8 and acknowledges in both cases."""
    g = guest(spec, lr(70, PENDING, 0x00), GICH_APR=1 << 1)
    g.gicv_write(BPR, 4)
    assert g.gicv(IAR) == 1023 and not g.virq() and g.gicv(HPPIR) == 70
    assert g.lr(0) == lr(70, PENDING, 0x00)
    g.gicv_write(BPR, 2)
    assert g.virq() and g.gicv(IAR) == 70
    assert g.gich(APR) == 1 << 1 | 1 << 0  # group priority 0x00: bit 0


def test_group1_needs_ackctl_or_the_alias(spec: Spec) -> None:
    entry = lr(48, PENDING, 0x40, grp1=1)
    g = guest(spec, entry, ctlr=ENABLEGRP1)
    assert g.gicv(HPPIR) == 1022 and g.gicv(IAR) == 1022
    assert g.lr(0) == entry  # nothing acknowledged
    assert g.gicv(AHPPIR) == 48
    assert g.gicv(AIAR) == 48
    # Group 1 with ABPR 3: group priority 0x40 AND 0xF8 = 0x40 -> APR bit 8
    assert g.gich(APR) == 1 << 8
    g.gicv_write(AEOIR, 48)
    assert g.lr(0) == lr(48, INVALID, 0x40, grp1=1) and g.gich(APR) == 0
    with_ackctl = guest(spec, entry, ctlr=ENABLEGRP1 | ACKCTL)
    assert with_ackctl.gicv(IAR) == 48
    group0 = guest(spec, lr(49, PENDING, 0x40))
    assert group0.gicv(AIAR) == 1023 and group0.gicv(AHPPIR) == 1023


def test_binary_point_sets_the_active_priority_bit(spec: Spec) -> None:
    g = guest(spec, lr(60, PENDING, 0x38))
    g.gicv_write(BPR, 4)  # group priority bits 7:5: 0x38 -> 0x20
    assert g.gicv(IAR) == 60
    assert g.gich(APR) == 1 << 4 and g.gicv(RPR) == 0x20


def test_eoi_of_active_and_pending_leaves_it_pending(spec: Spec) -> None:
    g = guest(spec, lr(50, ACTIVE_PENDING, 0x40), GICH_APR=1 << 8)
    g.gicv_write(EOIR, 50)
    assert g.lr(0) == lr(50, PENDING, 0x40) and g.gich(APR) == 0
    assert g.gicv(IAR) == 50


def test_unmatched_eoi_counts_only_with_a_priority_drop(spec: Spec) -> None:
    g = guest(spec, lr(50, PENDING, 0x40))
    g.gicv_write(EOIR, 50)  # 50 is pending, not active; APR empty: nothing dropped
    assert g.gich(HCR) == EN and g.lr(0) == lr(50, PENDING, 0x40)
    g = guest(spec, hcr=EN | 31 << 27, GICH_APR=0b1010)
    g.gicv_write(EOIR, 99)
    assert g.gich(APR) == 0b1000  # lowest set bit cleared
    assert g.gich(HCR) == EN  # EOICount 31 + 1 wraps to 0
    g.gicv_write(EOIR, 1023)  # spurious: ignored entirely
    assert g.gich(APR) == 0b1000


def test_eoimode_splits_priority_drop_and_deactivation(spec: Spec) -> None:
    g = guest(spec, lr(33, PENDING, 0x10), ctlr=ENABLEGRP0 | EOIMODE)
    assert g.gicv(IAR) == 33
    assert g.gich(APR) == 1 << 2
    g.gicv_write(EOIR, 33)
    assert g.gich(APR) == 0 and g.gicv(RPR) == 0xFF  # priority dropped
    assert g.lr(0) == lr(33, ACTIVE, 0x10)  # still active
    g.gicv_write(DIR, 33)
    assert g.lr(0) == lr(33, INVALID, 0x10)
    g.gicv_write(DIR, 33)  # nothing active holds 33 any more: EOICount 1
    assert g.gich(HCR) == EN | 1 << 27


def test_dir_without_eoimode_is_ignored(spec: Spec) -> None:
    g = guest(spec, lr(33, ACTIVE, 0x10))
    g.gicv_write(DIR, 33)
    assert g.lr(0) == lr(33, ACTIVE, 0x10) and g.gich(HCR) == EN


def test_virtual_irq_and_fiq_lines(spec: Spec) -> None:
    g = guest(spec, lr(32, PENDING, 0x20))
    assert g.virq() and not g.vfiq()
    g.gicv_write(CTLR, ENABLEGRP0 | FIQEN)
    assert g.vfiq() and not g.virq()  # Group 0 as FIQ
    g.gicv_write(CTLR, ENABLEGRP0)
    assert g.gicv(IAR) == 32
    assert not g.virq()  # acknowledged: no longer pending
    grp1 = guest(spec, lr(32, PENDING, 0x20, grp1=1), ctlr=ENABLEGRP1 | FIQEN)
    assert grp1.virq() and not grp1.vfiq()  # Group 1 is always an IRQ
    assert not guest(spec, lr(32, PENDING, 0x20), hcr=0).virq()


def test_hppir_reports_the_sgi_source(spec: Spec) -> None:
    """QEMU 7.2 drops the CPUID here (conformance-anchors.md §4.3); IHI 0048B keeps it."""
    g = guest(spec, lr(3, PENDING, 0x20, cpuid=6))
    assert g.gicv(HPPIR) == 6 << 10 | 3
    assert g.lr(0) == lr(3, PENDING, 0x20, cpuid=6)


def test_a_hardware_sgi_id_reports_no_cpuid(spec: Spec) -> None:
    g = guest(spec, lr(3, PENDING, 0x20, hw=1, pid=0x1E6))  # pINTID 0x1E6: low bits 110
    assert g.gicv(IAR) == 3


# ---- both semantics agree ---------------------------------------------------------------


@settings(max_examples=120)
@given(state=gic_virtual_states(), offset=gicv_offsets())
def test_gicv_read_agrees(spec: Spec, state: dict[str, Any], offset: int) -> None:
    agree(spec, "GICV.Read", [offset], state)


@settings(max_examples=120)
@given(state=gic_virtual_states(), offset=gicv_offsets(), value=gicv_write_values())
def test_gicv_write_agrees(spec: Spec, state: dict[str, Any], offset: int, value: int) -> None:
    agree(spec, "GICV.Write", [offset, value], state)


@settings(max_examples=80)
@given(state=gicv_pending_states(), offset=st.sampled_from(GICV_ACKNOWLEDGE_OFFSETS))
def test_acknowledge_agrees(spec: Spec, state: dict[str, Any], offset: int) -> None:
    """Random states seldom hold an interrupt to acknowledge; these do."""
    agree(spec, "GICV.Read", [offset], state)


@settings(max_examples=80)
@given(case=gicv_eoi_cases())
def test_end_of_interrupt_agrees(spec: Spec, case: tuple[dict[str, Any], int, int]) -> None:
    state, offset, value = case
    agree(spec, "GICV.Write", [offset, value], state)


#: What the strategies reach on a fixed (derandomized) sample of 200: a GICV_IAR or GICV_AIAR
#: read that acknowledges (returns an ID below 1020) in at least 30% of those reads (measured:
#: 42%; the rest are refused by the binary point, the running priority or AckCtl, which is the
#: point), and an EOIR, AEOIR or DIR write that changes a list register or GICH_APR in at
#: least 60% of the cases (measured: 91%). Random states reach 1.7% and 1.3%.
ACK_FLOOR, EOI_FLOOR = 0.3, 0.6


def test_the_acknowledge_strategy_reaches_acknowledges(spec: Spec) -> None:
    reads: list[int] = []

    @settings(max_examples=200, derandomize=True, database=None)
    @given(state=gicv_pending_states(), offset=st.sampled_from((IAR, AIAR)))
    def sample(state: dict[str, Any], offset: int) -> None:
        reads.append(spec.call("GICV.Read", offset, state=spec.state(**state)) & 0x3FF)

    sample()
    assert sum(r < 1020 for r in reads) >= ACK_FLOOR * len(reads), sum(r < 1020 for r in reads)


def test_the_eoi_strategy_reaches_ends_of_interrupt(spec: Spec) -> None:
    changed: list[bool] = []

    @settings(max_examples=200, derandomize=True, database=None)
    @given(case=gicv_eoi_cases())
    def sample(case: tuple[dict[str, Any], int, int]) -> None:
        state, offset, value = case
        machine = spec.state(**state)
        names = [f"GICH_LR{n}" for n in range(4)] + ["GICH_APR"]
        before = [getattr(machine, name) for name in names]
        spec.call("GICV.Write", offset, value, state=machine)
        changed.append(before != [getattr(machine, name) for name in names])

    sample()
    assert sum(changed) >= EOI_FLOOR * len(changed), sum(changed)


@settings(max_examples=80)
@given(state=gic_virtual_states(), offset=gich_offsets())
def test_gich_read_agrees(spec: Spec, state: dict[str, Any], offset: int) -> None:
    agree(spec, "GICH.Read", [offset], state)


@settings(max_examples=60)
@given(state=gic_virtual_states(), offset=gich_offsets(), value=st.integers(0, 2**32 - 1))
def test_gich_write_agrees(spec: Spec, state: dict[str, Any], offset: int, value: int) -> None:
    agree(spec, "GICH.Write", [offset, value], state)


@settings(max_examples=60)
@given(state=gic_virtual_states())
def test_interrupt_lines_agree(spec: Spec, state: dict[str, Any]) -> None:
    for name in ("GICH.MaintenanceInterrupt", "GICV.VirtualIRQSignalled", "GICV.VirtualFIQSignalled"):
        agree(spec, name, [], state)


# ---- the HW bit: a virtual EOI deactivates the physical interrupt ----------------------

GICD_CTLR, GICD_ISENABLER0, GICD_ISACTIVER0, GICD_IPRIORITYR6 = 0x000, 0x100, 0x300, 0x418
GICC_CTLR, GICC_PMR, GICC_IAR, GICC_EOIR = 0x00, 0x04, 0x0C, 0x10
VTIMER_PPI = 27


def host_took_the_timer_interrupt(spec: Spec, g: VGIC) -> None:
    """The host's side of KVM's virtual timer: PPI 27 enabled at priority 0xA0, the physical
    CPU interface with EOImode set (GICC_CTLR bit 9), the line raised, the interrupt
    acknowledged and priority-dropped but left active (IHI 0048B.b §4.3, §4.4)."""
    def gicd(offset: int, value: int) -> None:
        spec.call("GICD.Write", offset, value, state=g.state)

    def gicc(offset: int, value: int) -> None:
        spec.call("GICC.Write", offset, value, state=g.state)

    gicd(GICD_CTLR, 1)
    gicd(GICD_ISENABLER0, 1 << VTIMER_PPI)
    gicd(GICD_IPRIORITYR6, 0xA0 << 24)  # byte 3 of IPRIORITYR6 is INTID 27
    gicc(GICC_CTLR, 1 | 1 << 9)
    gicc(GICC_PMR, 0xF0)
    spec.call("GIC.SetInputLevel", VTIMER_PPI, True, state=g.state)
    assert spec.call("GICC.Read", GICC_IAR, state=g.state) == VTIMER_PPI
    gicc(GICC_EOIR, VTIMER_PPI)  # priority drop only: EOImode is set


def physical_active(spec: Spec, g: VGIC) -> int:
    return spec.call("GICD.Read", GICD_ISACTIVER0, state=g.state)


def test_hw_eoi_deactivates_the_physical_interrupt(spec: Spec) -> None:
    g = guest(spec)
    host_took_the_timer_interrupt(spec, g)
    assert physical_active(spec, g) == 1 << 27  # 0x08000000
    entry = lr(VTIMER_PPI, PENDING, 0xA0, hw=1, pid=VTIMER_PPI)
    assert entry == 0x9A006C1B  # HW | pending | priority 0x14 <<23 | pINTID 27 <<10 | 27
    g.gich_write(LR0, entry)
    assert g.gicv(IAR) == VTIMER_PPI
    g.gicv_write(EOIR, VTIMER_PPI)
    assert g.lr(0) == 0x8A006C1B  # invalid
    assert physical_active(spec, g) == 0
    assert g.gich(EISR0) == 0 and g.gich(ELRSR0) == 0xF  # HW entries never ask for an EOI


def test_software_eoi_leaves_the_physical_interrupt_active(spec: Spec) -> None:
    g = guest(spec)
    host_took_the_timer_interrupt(spec, g)
    g.gich_write(LR0, lr(VTIMER_PPI, PENDING, 0xA0, eoi=1))
    assert g.gicv(IAR) == VTIMER_PPI
    g.gicv_write(EOIR, VTIMER_PPI)
    assert physical_active(spec, g) == 1 << 27
    assert g.gich(EISR0) == 1 and g.gich(MISR) == 1 and g.maintenance()  # the hypervisor must do it


def test_hw_eoi_with_eoimode_waits_for_dir(spec: Spec) -> None:
    g = guest(spec, ctlr=ENABLEGRP0 | EOIMODE)
    host_took_the_timer_interrupt(spec, g)
    g.gich_write(LR0, lr(VTIMER_PPI, PENDING, 0xA0, hw=1, pid=VTIMER_PPI))
    assert g.gicv(IAR) == VTIMER_PPI
    g.gicv_write(EOIR, VTIMER_PPI)
    assert physical_active(spec, g) == 1 << 27
    g.gicv_write(DIR, VTIMER_PPI)
    assert physical_active(spec, g) == 0
