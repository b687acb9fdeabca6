"""The pictures of the site: each derived from the checked tree when the site is built, drawn as
an SVG file, and shown in the chapter it illustrates under the definition it is derived from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypspec.api import Spec
from hypspec.lang.diagnostics import split_lines
from hypspec.site.diagrams import modes, worldswitch
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
)


def make_figures(spec: Spec, parts: list[Part]) -> list[Figure]:
    lines = {page.display: split_lines(page.text) for part in parts for page in part.pages}
    return [Figure(p.name, p.under, p.caption, p.draw(spec, lines)) for p in PICTURES
            if p.under in spec.program.order]
