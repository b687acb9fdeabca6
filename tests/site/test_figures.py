"""The site's pictures: each derived picture has the edges the architecture and the model say,
and a change to the text it is derived from changes it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from hypspec.api import Spec
from hypspec.lang.diagnostics import split_lines
from hypspec.paths import ROOT, proof_tree
from hypspec.site.diagrams import modes, worldswitch
from hypspec.site.diagrams.dot import render_svg
from hypspec.site.diagrams.modes import Transition
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
    assert {f.name for f in figures} >= {"processor-modes", "world-switch"}
    for figure in figures:
        assert figure.under in real.program.functions
        assert "<svg" in figure.svg
