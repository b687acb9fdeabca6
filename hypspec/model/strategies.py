"""Hypothesis strategies for a model's transition arguments, chosen by parameter type.

One place for them: the stateful test, `hypspec explore` and the mutant matrix all draw from
here. Values are drawn from where the behaviour lives: a few ids (so that steps meet the same
VMs and vCPUs again), real modes, every system register, and register values that are either
small, all-ones or arbitrary.
"""

from __future__ import annotations

from hypothesis import strategies as st

from hypspec.api import Spec
from hypspec.lang import syntax as s
from hypspec.lang.types import Bits, Bool, Enum, Type

# How many VMs and vCPUs a run names: enough for two VMs with two vCPUs each, few enough
# that steps keep meeting the same ones.
IDS = 4
# The processor modes, by their CPSR.M encodings (ARM DDI 0406C.d §B1.3.1), one of them bad.
MODES = [0b10000, 0b10001, 0b10010, 0b10011, 0b10111, 0b11011, 0b11111, 0b11010, 0b10110, 0b00000]


def values(width: int) -> st.SearchStrategy[int]:
    top = (1 << width) - 1
    return st.one_of(st.integers(0, 15), st.just(top), st.integers(0, top))


def for_param(param: s.Param, pes: int, pe_index: bool,
              preferred: dict[str, list[int]] | None = None) -> st.SearchStrategy[object]:
    """Values for one parameter. `preferred` names, per enumeration, the members where the
    behaviour lives (for `Model.SysReg`, the registers that hold state); they are drawn half the
    time, every member the other half."""
    ty: Type | None = param.ty
    if pe_index:
        return st.integers(0, pes - 1)
    if isinstance(ty, Bool):
        return st.booleans()
    if isinstance(ty, Enum):
        every = st.integers(0, len(ty.members) - 1)
        favoured = (preferred or {}).get(ty.name)
        if not favoured:
            return every
        often = st.sampled_from(favoured)
        return st.one_of(often, often, often, every)
    assert isinstance(ty, Bits)
    if ty.layout is not None and ty.layout.name.endswith("Id"):
        return st.integers(0, IDS - 1)
    if param.name == "mode" and ty.width == 5:
        return st.sampled_from(MODES)
    if ty.width <= 5:
        return st.integers(0, (1 << ty.width) - 1)
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
