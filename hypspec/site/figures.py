"""The pictures of the site: each derived from the checked tree when the site is built, drawn as
an SVG file, and shown in the chapter it illustrates under the definition it is derived from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypspec.api import Spec
from hypspec.lang.diagnostics import split_lines
from hypspec.site.diagrams import listregs, modes, stage2, worldswitch
from hypspec.site.diagrams.dot import render_svg
from hypspec.site.sources import Part

DIRECTORY = "assets/diagrams"


@dataclass(frozen=True)
class Figure:
    name: str  # the file: assets/diagrams/NAME.svg
    under: str  # the definition whose block it follows
    caption: str
    svg: str

    @property
    def path(self) -> str:
        return f"{DIRECTORY}/{self.name}.svg"


@dataclass(frozen=True)
class Picture:
    """How one figure is made: where it goes, what it says it is, and how it is drawn."""

    name: str
    under: str
    caption: str
    draw: Callable[[Spec, dict[str, list[str]]], str]


def _modes(spec: Spec, _lines: dict[str, list[str]]) -> str:
    return render_svg(modes.picture(modes.derive(spec)))


def _stage2_walk(spec: Spec, _lines: dict[str, list[str]]) -> str:
    return render_svg(stage2.picture(stage2.derive(spec)))


def _list_register(spec: Spec, _lines: dict[str, list[str]]) -> str:
    return render_svg(listregs.picture(listregs.derive(spec)))


def _world_switch(spec: Spec, lines: dict[str, list[str]]) -> str:
    return worldswitch.picture(worldswitch.derive(spec.program, lines))


PICTURES = (
    Picture("processor-modes", "Model.ModeChange",
            "The processor modes and how they change, found by running the spec: every exception "
            "kind taken in every mode under each routing (`Model.TakeException()`, the exceptions "
            "chapter), and every instruction that changes mode from every mode to every mode "
            "(`Model.ModeChange()`, above). Modes that behave alike share a box.", _modes),
    Picture("world-switch", "KVM.VcpuReturn",
            "The world switch, read from the syntax tree of `KVM.VcpuRun()` and `KVM.VcpuReturn()`: "
            "their statements in the order they run, each drawn by the state it touches through the "
            "functions it calls (the model's saved contexts or the PE's registers). Dashed: inside "
            "an `if`.", _world_switch),
    Picture("stage2-walk", "AArch32.SecondStageWalk",
            "The stage 2 walk, found by running `AArch32.SecondStageTranslate()` (this walk, then "
            "`AArch32.CheckS2Permission()`) on IPA 0: every VTCR.SL0 with every T0SZ, then, at each "
            "level the walk starts at or reaches, each encoding of a descriptor's two low bits, and "
            "at each leaf each case of its access flag, permissions and access. An arrow names the "
            "cases that go its way: to the next lookup, to a leaf (its size read from the address "
            "it gives), or to a fault at the level the fault record names.", _stage2_walk),
    Picture("list-register", "GICH_LR0",
            "The life cycle of a list register, found by running the GICV and GICH frames "
            "(`GICV.Read()`, `GICV.Write()`, `GICH.Write()`, below) on GICH_LR0 in each state, for a "
            "software interrupt (HW 0, EOI bit 0 or 1) and a hardware one (HW 1): the guest's read of "
            "GICV_IAR and its writes of GICV_EOIR and GICV_DIR under each EOImode (solid; an access "
            "that changes nothing is left out), and the hypervisor's writes of the list register "
            "(dashed). A state is named from the State field and `GICH.LRPendingEOI()`.",
            _list_register),
)


def make_figures(spec: Spec, parts: list[Part]) -> list[Figure]:
    lines = {page.display: split_lines(page.text) for part in parts for page in part.pages}
    return [Figure(p.name, p.under, p.caption, p.draw(spec, lines)) for p in PICTURES
            if p.under in spec.program.order]
