"""How a model's transition arguments are drawn, by parameter type.

One place for them: the stateful test, `hypspec explore` and the mutant matrix all draw from
here. Values are drawn from where the behaviour lives: a few ids (so that steps meet the same
VMs and vCPUs again), real modes, every system register, and register values that are either
small, all-ones or arbitrary.

A sampler draws from a `random.Random` that Hypothesis seeds once per run, not from Hypothesis
itself: a step tries a few dozen candidates before enough of them can act, and Hypothesis's
cost per draw made the drawing most of a campaign's time. A failure is minimised by replaying
the steps as taken (`hypspec.model.explore`), not by Hypothesis's shrinking.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from hypspec.api import Spec
from hypspec.lang import syntax as s
from hypspec.lang.types import Bits, Bool, Enum, Type

# How many VMs and vCPUs a run names: enough for two VMs with two vCPUs each, few enough
# that steps keep meeting the same ones.
IDS = 4
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
    if ty.layout is not None and ty.layout.name.endswith("Id"):
        return lambda rng: rng.randrange(IDS)
    if param.name == "mode" and ty.width == 5:
        return lambda rng: rng.choice(MODES)
    if ty.width <= 5:
        width = ty.width
        return lambda rng: rng.getrandbits(width)
    return values(ty.width)


def preferred_members(spec: Spec) -> dict[str, list[int]]:
    """Per enumeration E, the members for which a spec function `<E>HasState(E)` holds in the
    reset state: the system registers that hold state, for `Model.SysReg`."""
    found: dict[str, list[int]] = {}
    state = spec.state()
    for name, enum in spec.program.enums.items():
        func = spec.program.functions.get(f"{name}HasState")
        if func is None or len(func.params) != 1 or func.params[0].ty != enum:
            continue
        compiled = spec.compiled.function(func.name)
        found[name] = [i for i in range(len(enum.members)) if compiled(state, i)]
    return found
