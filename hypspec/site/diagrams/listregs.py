"""The life cycle of a list register, found by running the spec (spec/10): GICH_LR0 is set to each
state, for a software interrupt (HW 0, with and without the EOI bit) and a hardware one (HW 1),
and each access is made through the frames as the guest and the hypervisor make it: the guest's
read of GICV_IAR, its writes of GICV_EOIR and GICV_DIR under each GICV_CTLR.EOImode
(`GICV.Read()`, `GICV.Write()`), and the hypervisor's writes of the list register
(`GICH.Write()`). What the list register holds afterwards, and whether the physical interrupt was
deactivated, is the transition. A change to the chapter changes the picture."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from hypspec.api import Spec, State
from hypspec.site.diagrams.dot import Digraph
from hypspec.site.diagrams.runs import pack

LR = "GICH_LR0"
GICV_READ, GICV_WRITE, GICH_WRITE = "GICV.Read", "GICV.Write", "GICH.Write"
PENDING_EOI = "GICH.LRPendingEOI"
# The State field's encodings, as the chapter's table of the list register names them
STATES = {0b00: "Invalid", 0b01: "Pending", 0b10: "Active", 0b11: "Active and pending"}
MAINTENANCE = "Invalid, EOI maintenance requested"
LR_OFFSET = 0x100  # GICH_LR0 in the control frame
VIRTUAL_ID, PHYSICAL_ID = 40, 41  # two shared peripheral interrupts: no banking, no source CPU
EOI_BIT = 1 << 9  # PhysicalID<9> is the EOI bit when HW is 0
HYPERVISOR = "hypervisor"


@dataclass(frozen=True)
class Kind:
    """What kind of interrupt the list register holds: its HW bit and its PhysicalID field."""

    name: str
    hw: int
    physical: int


KINDS = (Kind("HW 0, EOI 0", 0, 0), Kind("HW 0, EOI 1", 0, EOI_BIT), Kind("HW 1", 1, PHYSICAL_ID))


@dataclass(frozen=True)
class Access:
    """One access by the guest to its virtual CPU interface, under one EOImode."""

    name: str
    offset: int
    write: bool
    eoimode: int


GUEST = (
    Access("read GICV_IAR", 0x000C, False, 0),
    Access("write GICV_EOIR, EOImode 0", 0x0010, True, 0),
    Access("write GICV_EOIR, EOImode 1", 0x0010, True, 1),
    Access("write GICV_DIR, EOImode 0", 0x1000, True, 0),
    Access("write GICV_DIR, EOImode 1", 0x1000, True, 1),
)


@dataclass(frozen=True, order=True)
class Change:
    source: str  # the list register's state before: "Pending"
    via: str  # the access: "read GICV_IAR", "write GICH_LR0, State '01'"
    kind: str  # a Kind's name
    target: str
    deactivates: bool  # the physical interrupt was deactivated in the distributor


@dataclass(frozen=True)
class LifeCycle:
    guest: frozenset[Change]  # every access, including those that change nothing
    hypervisor: frozenset[Change]


def derive(spec: Spec) -> LifeCycle:
    return LifeCycle(frozenset(_guest(spec)), frozenset(_hypervisor(spec)))


def _entry(spec: Spec, kind: Kind, state: int) -> int:
    return pack(spec, LR, {"VirtualID": VIRTUAL_ID, "PhysicalID": kind.physical, "Priority": 0,
                           "Grp1": 0, "State": state, "HW": kind.hw})


def _setup(spec: Spec, kind: Kind, state: int, eoimode: int) -> State:
    """The interface enabled, Group 0 enabled with the lowest priority mask, and the list register
    in `state`. An active entry has its priority in GICH_APR, as acknowledging it left it; its
    physical interrupt (for HW 1) is active in the distributor, as the hypervisor left it."""
    active = state & 0b10
    return spec.state(
        GICH_HCR={"En": 1}, GICH_VMCR={"VMGrp0En": 1, "VMPriMask": 0x1F, "VEM": eoimode},
        GICH_APR=1 if active else 0, **{LR: _entry(spec, kind, state)},
        GIC_Interrupts={PHYSICAL_ID: pack(spec, "GICInterrupt", {"Active": 1, "Enabled": 1})})


def _name(spec: Spec, entry: int) -> str:
    if spec.call(PENDING_EOI, entry):
        return MAINTENANCE
    return STATES[spec.field(LR, "State", entry)]


def _change(spec: Spec, kind: Kind, start: int, via: str, eoimode: int, function: str,
            *args: int) -> Change:
    state = _setup(spec, kind, start, eoimode)
    before = dict(state.GIC_Interrupts)
    spec.call(function, *args, state=state)
    return Change(_name(spec, _entry(spec, kind, start)), via, kind.name,
                  _name(spec, getattr(state, LR)), state.GIC_Interrupts != before)


def _guest(spec: Spec) -> Iterator[Change]:
    for kind in KINDS:
        for start in STATES:
            for access in GUEST:
                args = (access.offset, VIRTUAL_ID) if access.write else (access.offset,)
                yield _change(spec, kind, start, access.name, access.eoimode,
                              GICV_WRITE if access.write else GICV_READ, *args)


def _hypervisor(spec: Spec) -> Iterator[Change]:
    """The hypervisor's write of each state over each state, the rest of the entry as it was."""
    for kind in KINDS:
        for start in STATES:
            for written in STATES:
                yield _change(spec, kind, start, f"write GICH_LR0, State '{written:02b}'", 0,
                              GICH_WRITE, LR_OFFSET, _entry(spec, kind, written))


def _qualified(via: str, kinds: set[str], deactivates: bool) -> str:
    """An arrow's line: the access, the kinds of entry it holds for when not all, and the
    physical deactivation it causes."""
    software = {k.name for k in KINDS if k.hw == 0}
    if kinds == {k.name for k in KINDS}:
        text = via
    else:
        text = f"{via} ({'HW 0' if kinds == software else '; '.join(sorted(kinds))})"
    return text + ("\n+ deactivates the physical interrupt" if deactivates else "")


Arrow = tuple[str, str, str, bool]  # from, access, to, whether it deactivates the physical interrupt


def _kinds_by_arrow(changes: Iterable[tuple[Arrow, str]]) -> dict[Arrow, set[str]]:
    """The kinds of entry each arrow holds for."""
    grouped: dict[Arrow, set[str]] = {}
    for arrow, kind in changes:
        grouped.setdefault(arrow, set()).add(kind)
    return grouped


def _guest_arrows(changes: frozenset[Change]) -> dict[Arrow, set[str]]:
    """The accesses that change something: the list register's state or the distributor's."""
    return _kinds_by_arrow(((c.source, c.via, c.target, c.deactivates), c.kind) for c in changes
                           if c.source != c.target or c.deactivates)


def _hypervisor_arrows(changes: frozenset[Change]) -> dict[Arrow, set[str]]:
    """A write that leads to the same state from every state of a kind is drawn once, from the
    hypervisor; one that depends on the state before is drawn from each state."""
    sources: dict[str, set[str]] = {}
    by_write: dict[tuple[str, str, str, bool], set[str]] = {}
    for c in changes:
        sources.setdefault(c.kind, set()).add(c.source)
        by_write.setdefault((c.kind, c.via, c.target, c.deactivates), set()).add(c.source)
    return _kinds_by_arrow(((tail, via, target, deactivates), kind)
                           for (kind, via, target, deactivates), froms in by_write.items()
                           for tail in ({HYPERVISOR} if froms == sources[kind] else froms))


def picture(cycle: LifeCycle) -> Digraph:
    """The states as ellipses; the guest's accesses as solid arrows (those that change nothing
    left out), the hypervisor's writes as dashed ones."""
    graph = Digraph(direction="TB")
    for name in (*STATES.values(), MAINTENANCE):
        graph.node(name, name, shape="ellipse")
    for (source, via, target, deactivates), kinds in sorted(_guest_arrows(cycle.guest).items()):
        graph.add_label(source, target, _qualified(via, kinds, deactivates))
    graph.node(HYPERVISOR, "The hypervisor\nwrites GICH_LR0\n(from any state)")
    for (tail, via, target, deactivates), kinds in sorted(_hypervisor_arrows(cycle.hypervisor).items()):
        graph.add_label(tail, target, _qualified(via, kinds, deactivates), dashed=True)
    return graph
