"""How a model's transition arguments are drawn, by parameter type.

One place for them: the stateful test, `hypspec explore` and the mutant matrix all draw from
here. Values are drawn from where the behaviour lives: a few ids (so that steps meet the same
VMs and vCPUs again), pages and guest frames the run has named before, real modes, every system
register, and register values that are either small, all-ones or arbitrary.

A sampler draws from a `random.Random` that Hypothesis seeds once per run, not from Hypothesis
itself: a step tries a few dozen candidates before enough of them can act, and Hypothesis's
cost per draw made the drawing most of a campaign's time. A failure is minimised by replaying
the steps as taken (`hypspec.model.explore`), not by Hypothesis's shrinking.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hypspec.api import Spec
from hypspec.lang import syntax as s
from hypspec.lang.types import Bits, Bool, Enum, Type

# How many VMs and vCPUs a run names: enough for two VMs with two vCPUs each, few enough
# that steps keep meeting the same ones.
IDS = 4
# Physical pages a run names: enough for two VMs' level 1 tables (two pages each), a few tables
# below them and a few pages of memory, few enough that pages are reused and contended for.
FRAMES = 32
# Guest frames a run names: neighbours under one level 3 table, one under the next level 3
# table of the same level 2 table, and one under another level 1 entry, so that a run both
# shares and builds tables.
GUEST_FRAMES = (0, 1, 2, 0x200, 0x40000)
# How often a page or guest frame argument is one the run has named before instead of a fresh
# draw: then a release meets the page a slot holds, an unmap the frame a map made, a store the
# frame a fault left unmapped.
REUSE = 0.5
# The processor modes, by their CPSR.M encodings (ARM DDI 0406C.d §B1.3.1), one of them bad.
MODES = [0b10000, 0b10001, 0b10010, 0b10011, 0b10111, 0b11011, 0b11111, 0b11010, 0b10110, 0b00000]


Sampler = Callable[[random.Random], object]


def values(width: int) -> Sampler:
    """A register value: small, all-ones or arbitrary, a third of the time each."""
    top = (1 << width) - 1

    def draw(rng: random.Random) -> int:
        kind = rng.randrange(3)
        return rng.randrange(16) if kind == 0 else top if kind == 1 else rng.getrandbits(width)
    return draw


def for_param(param: s.Param, pes: int, pe_index: bool,
              preferred: dict[str, list[int]] | None = None) -> Sampler:
    """Values for one parameter. `preferred` names, per enumeration, the members where the
    behaviour lives (for `Model.SysReg`, the registers that hold state); they are drawn three
    times in four, every member the rest of the time."""
    ty: Type | None = param.ty
    if pe_index:
        return lambda rng: rng.randrange(pes)
    if isinstance(ty, Bool):
        return lambda rng: rng.random() < 0.5
    if isinstance(ty, Enum):
        count = len(ty.members)
        favoured = (preferred or {}).get(ty.name)
        if not favoured:
            return lambda rng: rng.randrange(count)
        return lambda rng: rng.choice(favoured) if rng.randrange(4) else rng.randrange(count)
    assert isinstance(ty, Bits)
    named = (preferred or {}).get(ty.layout.name) if ty.layout is not None else None
    if named:
        anything = values(ty.width)
        return lambda rng: rng.choice(named) if rng.randrange(4) else anything(rng)
    if ty.layout is not None and ty.layout.name.endswith("Id"):
        return lambda rng: rng.randrange(IDS)
    if ty.layout is not None and ty.layout.name.endswith("GuestFrame"):
        return lambda rng: rng.choice(GUEST_FRAMES)
    if _is_frame(ty):
        return lambda rng: rng.randrange(FRAMES)
    if param.name == "mode" and ty.width == 5:
        return lambda rng: rng.choice(MODES)
    if ty.width <= 5:
        width = ty.width
        return lambda rng: rng.getrandbits(width)
    return values(ty.width)


def reuse(rng: random.Random, param: s.Param, drawn: Any, seen: dict[str, set[int]]) -> Any:
    """`drawn`, or, REUSE of the time, a page or guest frame of the type the run has named before
    (`seen`, by type, as `Machine.seen` keeps them)."""
    if not _is_frame(param.ty):
        return drawn
    named = seen.get(str(param.ty))
    if named and rng.random() < REUSE:
        return rng.choice(sorted(named))
    return drawn


def _is_frame(ty: Type) -> bool:
    """A page or guest frame number (a `Frame` or `GuestFrame` layout of the model)."""
    return isinstance(ty, Bits) and ty.layout is not None and ty.layout.name.endswith("Frame")


# The widest bit-vector layout whose named values are found by trying every value.
NAMED_WIDTH = 16


def preferred_members(spec: Spec) -> dict[str, list[int]]:
    """Per enumeration E, the members for which a spec function `<E>HasState(E)` holds in the
    reset state: the system registers that hold state, for `Model.SysReg`. Per bit-vector
    layout L of at most NAMED_WIDTH bits, the values for which `<L>Named(L)` holds: for
    `KVM.CP15Encoding`, the encodings the architecture names a register for."""
    found: dict[str, list[int]] = {}
    state = spec.state()
    for name, enum in spec.program.enums.items():
        func = spec.program.functions.get(f"{name}HasState")
        if func is None or len(func.params) != 1 or func.params[0].ty != enum:
            continue
        compiled = spec.compiled.function(func.name)
        found[name] = [i for i in range(len(enum.members)) if compiled(state, i)]
    for func in spec.program.functions.values():
        ty = func.params[0].ty if len(func.params) == 1 else None
        if not isinstance(ty, Bits) or ty.layout is None or func.name != f"{ty.layout.name}Named" \
                or ty.width > NAMED_WIDTH:
            continue
        compiled = spec.compiled.function(func.name)
        found[ty.layout.name] = [value for value in range(1 << ty.width) if compiled(state, value)]
    return found
