"""Worked examples of the TLB chapter (ARM DDI 0406C.d §B3.9, §B3.10, §B4.2.2), and the two
semantics agreeing on every maintenance operation.

The keys and entries are written out from the chapter's layout (processor in key bits 38:36,
VMID in 35:28, IPA page in 27:0; an entry's valid bit at 94, the leaf's level at 93:92, the
output page at 91:64, the descriptor below), and what each operation removes from the ARM
ARM's description of it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from tests.helpers.agreement import agree_api
from tests.spec.test_stage2_translation import LAST, TABLE, entry, leaf, three_levels
from tests.strategies import TLB_OPERATIONS, tlb_key, tlb_states

IPA = 0x80602123  # level 1 index 2, level 2 index 3, level 3 index 2 (three_levels)
OLD_PAGE, NEW_PAGE = 0x5060_0000, 0x7770_0000
VMID, PE = 5, 2
HYP, SUPERVISOR = 0b11010, 0b10011


def _state(spec: Spec, memory: dict[int, int], *, vm: bool = True, mode: int = HYP, fb: bool = False,
           entries: dict[int, int] | None = None, seed: int = 0):
    return spec.state(oracle_seed=seed, HCR=(1 if vm else 0) | (1 << 9 if fb else 0),
                      VTCR={"T0SZ": 0, "SL0": 1}, VTTBR=VMID << 48 | TABLE, MPIDR=0x80000000 | PE,
                      CPSR=0x1C0 | mode, PhysMem=memory, TLB_S2=entries or {})


def test_a_fill_caches_the_leaf_of_the_walk(spec: Spec) -> None:
    memory = three_levels(leaf(OLD_PAGE, kind=0b11))
    state = _state(spec, memory)
    spec.call("AArch32.S2TLBFill", IPA, state=state)
    descriptor = leaf(OLD_PAGE, kind=0b11)
    expected = 1 << 94 | 3 << 92 | (OLD_PAGE >> 12) << 64 | descriptor  # valid, level 3, page, leaf
    cached = dict(state.TLB_S2)
    assert cached == {tlb_key(PE, VMID, IPA >> 12): expected}


@pytest.mark.parametrize("case", ["no mapping", "access flag clear", "stage 2 off"])
def test_nothing_is_cached_from_a_walk_that_faults_or_without_stage_2(spec: Spec, case: str) -> None:
    memory = three_levels(leaf(OLD_PAGE, kind=0b11, af=0 if case == "access flag clear" else 1))
    if case == "no mapping":
        memory = {entry(TABLE, 2): 0}
    state = _state(spec, memory, vm=case != "stage 2 off")
    spec.call("AArch32.S2TLBFill", IPA, state=state)
    assert state.TLB_S2 == {}


def test_an_eviction_drops_this_processors_entry_only(spec: Spec) -> None:
    page = IPA >> 12
    owners = ((PE, VMID), (0, VMID), (PE, 1))
    entries = {tlb_key(pe, vmid, page): 1 << 94 | pe << 8 | vmid for pe, vmid in owners}
    state = _state(spec, {}, entries=dict(entries))
    spec.call("AArch32.S2TLBEvict", VMID, IPA, state=state)
    assert {k: v for k, v in state.TLB_S2.items() if v} == {k: v for k, v in entries.items()
                                                            if k != tlb_key(PE, VMID, page)}


def _translations(spec: Spec, memory: dict[int, int], entries: dict[int, int]) -> set[int]:
    """The physical addresses an access may get, over 32 choices of the UNKNOWN (hit or walk)."""
    found = set()
    for seed in range(32):
        state = _state(spec, memory, entries=dict(entries), seed=seed)
        result = spec.call("AArch32.S2TranslateCached", IPA, "AccType_NORMAL", False, state=state)
        found.add(result["paddress"])
    return found


def _stale(spec: Spec) -> tuple[dict[int, int], dict[int, int]]:
    """A fill of the old page, then the leaf changed to the new one without maintenance."""
    memory = three_levels(leaf(OLD_PAGE, kind=0b11))
    state = _state(spec, memory)
    spec.call("AArch32.S2TLBFill", IPA, state=state)
    memory[entry(LAST, 2)] = leaf(NEW_PAGE, kind=0b11)
    return memory, dict(state.TLB_S2)


def test_until_invalidated_a_stale_entry_may_still_answer(spec: Spec) -> None:
    memory, entries = _stale(spec)
    assert _translations(spec, memory, entries) == {OLD_PAGE | 0x123, NEW_PAGE | 0x123}


def test_after_tlbiallis_only_the_new_page_is_reached(spec: Spec) -> None:
    memory, entries = _stale(spec)
    state = _state(spec, memory, entries=entries)
    spec.call("Model.SysRegWrite", "SysReg_TLBIALLIS", 0, 0, state=state)
    assert _translations(spec, memory, state.TLB_S2) == {NEW_PAGE | 0x123}


ALL = {(pe, vmid) for pe in (0, PE) for vmid in (1, VMID)}
MINE = {(PE, VMID)}
VMID_EVERYWHERE = {(0, VMID), (PE, VMID)}
THIS_PE = {(PE, 1), (PE, VMID)}

#: operation, mode, HCR.FB, which (processor, VMID) entries it removes
SCOPES = [
    ("SysReg_TLBIALL", HYP, False, MINE),
    ("SysReg_TLBIALL", HYP, True, MINE),  # FB is for PL1 only
    ("SysReg_TLBIALL", SUPERVISOR, False, MINE),
    ("SysReg_TLBIALL", SUPERVISOR, True, VMID_EVERYWHERE),
    ("SysReg_DTLBIALL", SUPERVISOR, True, VMID_EVERYWHERE),
    ("SysReg_TLBIALLIS", HYP, False, VMID_EVERYWHERE),
    ("SysReg_TLBIALLNSNH", HYP, False, THIS_PE),
    ("SysReg_TLBIALLNSNHIS", HYP, False, ALL),
    ("SysReg_TLBIALLH", HYP, False, set()),
    ("SysReg_TLBIMVAIS", SUPERVISOR, True, set()),
]


SCOPE_IDS = [f"{op[7:]}-{'hyp' if m == HYP else 'svc'}-fb{int(fb)}" for op, m, fb, _ in SCOPES]


@pytest.mark.parametrize(("operation", "mode", "fb", "removed"), SCOPES, ids=SCOPE_IDS)
def test_what_each_operation_removes(spec: Spec, operation: str, mode: int, fb: bool, removed: set) -> None:
    entries = {tlb_key(pe, vmid, 0x80602): 1 << 94 | pe << 8 | vmid for pe, vmid in ALL}
    state = _state(spec, {}, mode=mode, fb=fb, entries=entries)
    spec.call("Model.SysRegWrite", operation, 0, 0, state=state)
    kept = {(pe, vmid) for pe, vmid in ALL if state.TLB_S2.get(tlb_key(pe, vmid, 0x80602), 0) >> 94}
    assert kept == ALL - removed


@settings(max_examples=200)
@given(registers=tlb_states(), operation=st.sampled_from(TLB_OPERATIONS))
def test_maintenance_agrees_in_both_semantics(spec: Spec, registers: dict, operation: str) -> None:
    agree_api(spec, "AArch32.TLBMaintenance", [operation], registers)
