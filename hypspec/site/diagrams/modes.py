"""The processor-mode state machine, found by running the spec: every exception kind taken in
every mode (`Model.TakeException()`, spec/03) and every mode-changing instruction from every
mode to every mode (`Model.ModeChange()`, spec/02), concretely. The edges are what those
functions do, so a change to either changes the picture."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product

from hypspec.api import Spec
from hypspec.site.diagrams.dot import Digraph

MODE_PREFIX = "M32_"
ENTRY = "Model.TakeException"
CHANGE = "Model.ModeChange"
# How the two functions name what they are asked about: an enumeration each
KINDS, KIND_PREFIX = "Model.ExceptionKind", "ExceptionKind_"
MEANS, MEANS_PREFIX = "Model.ModeChangeMeans", "ModeChangeMeans_"
_EXCEPTION_MEANS = "ModeChangeMeans_Exception"  # drawn from the entry functions instead
_ALLOWED = "ModeChangeOutcome_Allowed"


@dataclass(frozen=True, order=True)
class Transition:
    source: str  # a mode, as the spec names it less `M32_`: "User", "Hyp"
    via: str  # an exception kind or an instruction, less its enumeration's prefix
    target: str


@dataclass(frozen=True)
class ModeMachine:
    modes: tuple[str, ...]  # in the spec's order, those `BadMode()` accepts
    entries: frozenset[Transition]  # exceptions
    changes: frozenset[Transition]  # instructions, with HCR.TGE clear


def derive(spec: Spec) -> ModeMachine:
    modes = _modes(spec)
    return ModeMachine(tuple(modes), frozenset(_entries(spec, modes)), frozenset(_changes(spec, modes)))


def _modes(spec: Spec) -> dict[str, int]:
    found = {name[len(MODE_PREFIX):]: value for name, (_, value) in spec.program.constants.items()
             if name.startswith(MODE_PREFIX)}
    return {name: value for name, value in found.items()
            if not spec.call("BadMode", value)}  # type: ignore[arg-type]


def _entries(spec: Spec, modes: dict[str, int]) -> Iterable[Transition]:
    """Each kind from each mode under each routing the hypervisor can choose: HCR.TGE, the
    IMO/FMO/AMO routing (with the virtual interrupts pending), and a stage 1 or stage 2 abort.
    Interrupts are unmasked, so that every kind can be taken. A PL1 mode never runs with TGE set
    (an exception return to it is illegal then), so that pairing is left out."""
    names = {value: name for name, value in modes.items()}
    for kind, (mode, value), tge, route, stage2 in product(
            spec.program.enums[KINDS].members, modes.items(), (0, 1), (0, 1), (False, True)):
        if tge and spec.call("Model.ModePL", value) == 1:
            continue
        state = spec.state(CPSR={"M": value, "I": 0, "F": 0, "A": 0},
                           HCR={"TGE": tge, "IMO": route, "FMO": route, "AMO": route,
                                "VI": 1, "VF": 1, "VA": 1})
        fault = {"statuscode": "Fault_Translation", "level": 1, "write": False, "ipaddress": 0,
                 "secondstage": stage2}
        if spec.call(ENTRY, kind, 0, fault, state=state):
            yield Transition(mode, kind.removeprefix(KIND_PREFIX), names[state.CPSR & 0x1F])


def _changes(spec: Spec, modes: dict[str, int]) -> Iterable[Transition]:
    """Each instruction, from each mode to each mode, that `Model.ModeChange()` allows."""
    for means, (source, a), (target, b) in product(spec.program.enums[MEANS].members, modes.items(),
                                                   modes.items()):
        if means != _EXCEPTION_MEANS and spec.call(CHANGE, means, a, b) == _ALLOWED:
            yield Transition(source, means.removeprefix(MEANS_PREFIX), target)


@dataclass(frozen=True)
class Arrow:
    """One arrow of the picture: from a group of modes that behave alike, to a group of modes."""

    sources: tuple[str, ...]
    vias: tuple[str, ...]
    targets: tuple[str, ...]


def arrows(transitions: frozenset[Transition], modes: tuple[str, ...]) -> list[Arrow]:
    """The transitions, with modes merged wherever they behave alike, so that the picture shows
    each rule once: sources with the same transitions (to the same modes by the same means) are
    one box, and then targets reached from the same boxes by the same means are one box."""
    order = {mode: number for number, mode in enumerate(modes)}
    outgoing: dict[str, frozenset[tuple[str, str]]] = {
        mode: frozenset((t.via, t.target) for t in transitions if t.source == mode) for mode in modes}
    sources = _groups({m: out for m, out in outgoing.items() if out}, order)
    by_pair: dict[tuple[tuple[str, ...], str], tuple[str, ...]] = {}
    for group in sources:
        for target in modes:
            vias = tuple(sorted({via for via, t in outgoing[group[0]] if t == target}))
            if vias:
                by_pair[group, target] = vias
    incoming = {target: frozenset((g, v) for (g, t), v in by_pair.items() if t == target)
                for target in modes}
    targets = _groups({m: into for m, into in incoming.items() if into}, order)
    return [Arrow(group, by_pair[group, ts[0]], ts) for group in sources for ts in targets
            if (group, ts[0]) in by_pair]


def _groups(signatures: dict[str, frozenset], order: dict[str, int]) -> list[tuple[str, ...]]:
    grouped: dict[frozenset, list[str]] = {}
    for mode in sorted(signatures, key=order.__getitem__):
        grouped.setdefault(signatures[mode], []).append(mode)
    return [tuple(group) for group in grouped.values()]


def picture(machine: ModeMachine) -> Digraph:
    """Two panels, left to right: where each exception goes, and where each instruction may go."""
    graph = Digraph(direction="LR")
    panels = (("Taking an exception (Model.TakeException)", "x", machine.entries),
              ("Changing mode by an instruction (Model.ModeChange, HCR.TGE clear)", "i", machine.changes))
    for title, prefix, transitions in panels:
        members: list[str] = []
        for arrow in arrows(transitions, machine.modes):
            tail = graph.node(f"{prefix}:from:{','.join(arrow.sources)}", "\n".join(_lines(arrow.sources)))
            head = graph.node(f"{prefix}:to:{','.join(arrow.targets)}", "\n".join(_lines(arrow.targets)),
                              shape="ellipse")
            graph.edge(tail, head, "\n".join(_lines(arrow.vias)))
            members += [ident for ident in (tail, head) if ident not in members]
        graph.clusters.append((title, members))
    return graph


def _lines(names: tuple[str, ...], per_line: int = 3) -> list[str]:
    """A long list of names over several lines, so a box stays narrow."""
    return [", ".join(names[i : i + per_line]) for i in range(0, len(names), per_line)]
