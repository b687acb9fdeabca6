"""The site's pictures: each derived picture has the edges the architecture and the model say,
and a change to the text it is derived from changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.lang.diagnostics import split_lines
from hypspec.paths import ROOT, proof_tree
from hypspec.site.diagrams import listregs, modes, stage2, worldswitch
from hypspec.site.diagrams.dot import render_svg
from hypspec.site.diagrams.listregs import MAINTENANCE, Change
from hypspec.site.diagrams.modes import Transition
from hypspec.site.diagrams.stage2 import Step, fault, leaf, lookup
from hypspec.site.figures import make_figures
from hypspec.site.sources import read_parts


def _lines(root: Path) -> dict[str, list[str]]:
    return {page.display: split_lines(page.text) for part in read_parts(root) for page in part.pages}


@pytest.fixture(scope="module")
def real() -> Spec:
    return Spec.load(*proof_tree(ROOT))


def _mutated_tree(tmp_path: Path, chapter: str, old: str, new: str) -> Path:
    """A copy of the chapters with one text replaced, as a reader editing the spec would."""
    for tree in ("spec", "models", "proofs"):
        shutil.copytree(ROOT / tree, tmp_path / tree)
    path = tmp_path / chapter
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"the mutation's text must occur once in {chapter}"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return tmp_path


def test_the_mode_machine_has_the_architectures_edges(real: Spec) -> None:
    machine = modes.derive(real)
    pl1 = ("FIQ", "IRQ", "Svc", "Abort", "Undef", "System")
    for mode in pl1:  # an HVC from any Non-secure PL1 mode enters Hyp mode
        assert Transition(mode, "HypervisorCall", "Hyp") in machine.entries
    assert Transition("User", "SupervisorCall", "Svc") in machine.entries
    assert Transition("User", "SupervisorCall", "Hyp") in machine.entries  # with HCR.TGE set
    assert not any(t.source == "User" and t.via == "HypervisorCall" for t in machine.entries)
    # an exception taken in Hyp mode stays there
    assert {t.target for t in machine.entries if t.source == "Hyp"} == {"Hyp"}
    # an ERET in Hyp mode returns to whatever mode SPSR_hyp names
    assert {t.target for t in machine.changes if (t.source, t.via) == ("Hyp", "ERET")} == set(machine.modes)
    # no instruction enters Hyp mode from outside it, and CPS or MSR never leaves it
    assert not any(t.target == "Hyp" and t.source != "Hyp" for t in machine.changes)
    assert {t.target for t in machine.changes if t.source == "Hyp" and t.via in ("CPS", "MSR")} == {"Hyp"}
    assert "Monitor" not in machine.modes


def test_the_mode_picture_draws_each_rule_once(real: Spec) -> None:
    machine = modes.derive(real)
    drawn = modes.arrows(machine.changes, machine.modes)
    hyp = [a for a in drawn if a.sources == ("Hyp",) and "ERET" in a.vias]
    assert any(set(a.targets) == set(machine.modes) - {"Hyp"} for a in hyp)
    svg = render_svg(modes.picture(machine))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "HypervisorCall" in svg and "ERET" in svg


def test_a_changed_mode_rule_changes_the_mode_picture(real: Spec, tmp_path: Path) -> None:
    # let CPS and MSR leave Hyp mode: the picture must show it
    root = _mutated_tree(tmp_path, "spec/02-processor-state.md",
                         "(frommode == M32_Hyp || tomode == M32_Hyp)", "tomode == M32_Hyp")
    mutated = modes.derive(Spec.load(*proof_tree(root)))
    assert Transition("Hyp", "CPS", "Svc") in mutated.changes
    assert Transition("Hyp", "CPS", "Svc") not in modes.derive(real).changes
    assert render_svg(modes.picture(mutated)) != render_svg(modes.picture(modes.derive(real)))


def _at(half: worldswitch.Half, text: str) -> int:
    return next(n for n, step in enumerate(half.steps) if step.text.startswith(text))


def test_the_world_switch_saves_the_host_before_it_restores_the_guest(real: Spec) -> None:
    enter, leave = worldswitch.derive(real.program, _lines(ROOT))
    assert enter.callers == ("KVM.HypVector", "KVM.HostCall")
    assert enter.steps[0].source == worldswitch.HOST
    assert (_at(enter, "KVM.SaveHostRegs") < _at(enter, "KVM.RestoreGuestRegs")
            < _at(enter, "Model.ExecuteERET"))
    assert _at(enter, "KVM.ActivateTraps") < _at(enter, "VTTBR =") < _at(enter, "Model.ExecuteERET")
    eret = enter.steps[_at(enter, "Model.ExecuteERET")]
    assert (eret.source, eret.target) == (worldswitch.LOWVISOR, worldswitch.GUEST)
    save = enter.steps[_at(enter, "KVM.SaveHostRegs")]
    assert save.target == worldswitch.SAVED  # it writes the host's save area
    # the way back: the guest saved before the host is restored, stage 2 off, ERET to the host
    assert leave.steps[0].source == worldswitch.GUEST
    assert _at(leave, "KVM.SaveGuestRegs") < _at(leave, "VTTBR = Zeros") < _at(leave, "KVM.RestoreHostRegs")
    back = leave.steps[_at(leave, "Model.ExecuteERET")]
    assert back.target == worldswitch.HOST
    assert leave.steps[_at(leave, "KVM.StoreVFPState")].conditional  # only when the guest used the VFP
    assert not leave.steps[_at(leave, "KVM.SaveGuestRegs")].conditional


def test_a_reordered_world_switch_changes_the_sequence(real: Spec, tmp_path: Path) -> None:
    root = _mutated_tree(tmp_path, "models/kvm_arm/02-lowvisor.md",
                         "    KVM.SaveHostRegs(pe);\n    KVM.RestoreVGICState(v);",
                         "    KVM.RestoreVGICState(v);\n    KVM.SaveHostRegs(pe);")
    mutated = Spec.load(*proof_tree(root))
    enter, _ = worldswitch.derive(mutated.program, _lines(root))
    assert _at(enter, "KVM.RestoreVGICState") < _at(enter, "KVM.SaveHostRegs")
    before = worldswitch.picture(worldswitch.derive(real.program, _lines(ROOT)))
    assert worldswitch.picture((enter, worldswitch.derive(mutated.program, _lines(root))[1])) != before


def test_each_figure_sits_under_a_definition_of_the_tree(real: Spec) -> None:
    figures = make_figures(real, read_parts(ROOT))
    assert {f.name for f in figures} == {"processor-modes", "world-switch", "stage2-walk", "list-register"}
    for figure in figures:
        assert figure.under in real.program.order
        assert "<svg" in figure.svg
    placed = {f.name: f.under for f in figures}
    assert placed["stage2-walk"] == "AArch32.SecondStageWalk" and placed["list-register"] == "GICH_LR0"


# --- The stage 2 walk (spec/05) ---------------------------------------------------------------------

TABLE, BLOCK_OR_RESERVED, INVALID = "Valid 1, Type 1", "Valid 1, Type 0", "Valid 0"


def test_the_stage2_walk_has_the_architectures_edges(real: Spec) -> None:
    walk = stage2.derive(real)
    steps = walk.steps
    # VTCR.SL0 '01' starts at level 1 and '00' at level 2; the reserved values fault at level 1
    assert Step(stage2.START, "SL0 '01', T0SZ 1 to -8", lookup(1)) in steps
    assert Step(stage2.START, "SL0 '00', T0SZ 7 to -2", lookup(2)) in steps
    for reserved in ("SL0 '10', T0SZ 7 to -8", "SL0 '11', T0SZ 7 to -8", "SL0 '00', T0SZ -3 to -8"):
        assert Step(stage2.START, reserved, fault("Fault_Translation", 1)) in steps
    # a table at levels 1 and 2 leads one level down; an invalid descriptor faults at its level
    assert Step(lookup(1), TABLE, lookup(2)) in steps and Step(lookup(2), TABLE, lookup(3)) in steps
    for level in (1, 2, 3):
        assert Step(lookup(level), INVALID, f"Translation fault, level {level}") in steps
    # a block at levels 1 and 2; at level 3 Type 1 is a page and Type 0 is reserved (invalid)
    assert Step(lookup(1), BLOCK_OR_RESERVED, leaf(1)) in steps and Step(lookup(3), TABLE, leaf(3)) in steps
    assert Step(lookup(3), BLOCK_OR_RESERVED, "Translation fault, level 3") in steps
    assert walk.leaf_bits == {1: 30, 2: 21, 3: 12}  # 1GB and 2MB blocks, 4KB pages
    for level in (1, 2, 3):
        assert Step(leaf(level), "AF 1, HAP '11', read", stage2.TRANSLATED) in steps
        assert Step(leaf(level), "AF 0, read", f"Access flag fault, level {level}") in steps
        # the access flag is checked before the permissions
        assert Step(leaf(level), "AF 0, HAP '00', write", f"Access flag fault, level {level}") in steps
        for case in ("HAP '01' (no write), write", "HAP '10' (no read), read", "XN 1, instruction fetch"):
            assert Step(leaf(level), case, f"Permission fault, level {level}") in steps
    # every outcome is one of those: no level 0 or level 4, no other fault
    faults = {fault(f"Fault_{kind}", n) for kind in ("Translation", "AccessFlag", "Permission")
              for n in (1, 2, 3)}
    places = {lookup(n) for n in (1, 2, 3)} | {leaf(n) for n in (1, 2, 3)} | {stage2.TRANSLATED}
    assert {s.target for s in steps} <= faults | places


def test_the_stage2_picture_names_each_encoding(real: Spec) -> None:
    svg = render_svg(stage2.picture(stage2.derive(real)))
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    for text in ("Valid 1, Type 1: table", "Valid 1, Type 0: block", "Valid 1, Type 1: page",
                 "Valid 1, Type 0: reserved", "Valid 0: invalid", "maps 1 GB", "maps 4 KB",
                 "Access flag fault", "Permission fault"):
        assert text in svg, text


def test_a_changed_walk_changes_the_stage2_picture(real: Spec, tmp_path: Path) -> None:
    # drop the level 3 reserved encoding: Type 0 at level 3 becomes a leaf, as a level 2 block is
    root = _mutated_tree(tmp_path, "spec/05-stage2-translation.md",
                         "if desc.Valid == '0' || (level == 3 && desc.Type == '0') then",
                         "if desc.Valid == '0' then")
    mutated = stage2.derive(Spec.load(*proof_tree(root)))
    assert Step(lookup(3), BLOCK_OR_RESERVED, leaf(3)) in mutated.steps
    assert Step(lookup(3), BLOCK_OR_RESERVED, "Translation fault, level 3") not in mutated.steps
    assert render_svg(stage2.picture(mutated)) != render_svg(stage2.picture(stage2.derive(real)))


# --- The list register (spec/10) --------------------------------------------------------------------

KINDS = [kind.name for kind in listregs.KINDS]
IAR, EOI0, EOI1 = "read GICV_IAR", "write GICV_EOIR, EOImode 0", "write GICV_EOIR, EOImode 1"
DIR0, DIR1 = "write GICV_DIR, EOImode 0", "write GICV_DIR, EOImode 1"


def test_the_list_register_has_the_architectures_life_cycle(real: Spec) -> None:
    guest = listregs.derive(real).guest
    for kind in KINDS:  # a pending interrupt becomes active when the guest acknowledges it
        assert Change("Pending", IAR, kind, "Active", False) in guest
    # the end of an interrupt (EOImode 0), or its deactivation (EOImode 1), makes it invalid; a
    # hardware one deactivates its physical interrupt, a software one with EOI asks for maintenance
    for access in (EOI0, DIR1):
        assert Change("Active", access, "HW 0, EOI 0", "Invalid", False) in guest
        assert Change("Active", access, "HW 1", "Invalid", True) in guest
        assert Change("Active", access, "HW 0, EOI 1", MAINTENANCE, False) in guest
        assert Change("Active and pending", access, "HW 0, EOI 0", "Pending", False) in guest
    # with EOImode 1 the EOIR write only drops the priority; with EOImode 0 a DIR write is ignored
    for kind in KINDS:
        assert Change("Active", EOI1, kind, "Active", False) in guest
        assert Change("Active", DIR0, kind, "Active", False) in guest
        # an interrupt that is active and pending is not presented again until it is deactivated
        assert Change("Active and pending", IAR, kind, "Active and pending", False) in guest
    # only a hardware entry's deactivation reaches the distributor
    assert {c.kind for c in guest if c.deactivates} == {"HW 1"}


def test_the_hypervisor_writes_any_state(real: Spec) -> None:
    hypervisor = listregs.derive(real).hypervisor
    for kind in ("HW 0, EOI 0", "HW 1"):
        for source in listregs.STATES.values():
            for code, target in listregs.STATES.items():
                write = f"write GICH_LR0, State '{code:02b}'"
                assert Change(source, write, kind, target, False) in hypervisor
    svg = render_svg(listregs.picture(listregs.derive(real)))
    assert "from any state" in svg and "write GICH_LR0, State &#39;01&#39;" in svg
    assert "deactivates the physical interrupt" in svg and MAINTENANCE in svg


def test_a_changed_acknowledge_changes_the_list_register_picture(real: Spec, tmp_path: Path) -> None:
    # an acknowledge that leaves the interrupt pending as well as active
    root = _mutated_tree(tmp_path, "spec/10-gic-virtualization.md",
                         "    lr.State = '10';", "    lr.State = '11';")
    mutated = listregs.derive(Spec.load(*proof_tree(root)))
    assert Change("Pending", IAR, "HW 1", "Active and pending", False) in mutated.guest
    assert Change("Pending", IAR, "HW 1", "Active", False) not in mutated.guest
    assert render_svg(listregs.picture(mutated)) != render_svg(listregs.picture(listregs.derive(real)))
