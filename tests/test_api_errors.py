"""The Python API (`hypspec.api.Spec`) given a wrong register, field, value, map, array, state or
function: a StateError whose message names what is wrong, never a TypeError, KeyError or
AttributeError from inside the engine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hypspec.api import Spec, StateError

S2T = "AArch32.SecondStageTranslate"  # (bits(40) ipa, AccType acctype, boolean iswrite)

# (what is wrong, the call, what the message must say)
WRONG_ARGUMENTS: list[tuple[str, Callable[[Spec], Any], list[str]]] = [
    # registers and globals
    ("unknown register", lambda s: s.state(CPSRR=0),
     ["unknown register or global 'CPSRR'", "did you mean 'CPSR'"]),
    ("register name not a string", lambda s: s.set(s.state(), ["CPSR"], 0),
     ["unknown register or global ['CPSR']"]),
    ("register value a string", lambda s: s.state(CPSR="0x10"), ["CPSR: expected an integer, got '0x10'"]),
    ("register value a float", lambda s: s.state(HCR=1.0), ["HCR: expected an integer, got 1.0"]),
    ("register value a boolean", lambda s: s.state(HCR=True), ["HCR: expected an integer, got True"]),
    ("register value too wide", lambda s: s.state(CPSR=1 << 32),
     ["CPSR: 0x100000000 does not fit in 32 bits"]),
    ("register value negative", lambda s: s.state(CPSR=-1), ["CPSR: -0x1 does not fit in 32 bits"]),
    ("register given as a list", lambda s: s.state(CPSR=[0x10]), ["CPSR: expected an integer, got [16]"]),
    # fields
    ("unknown field", lambda s: s.state(CPSR={"MM": 0x10}), ["CPSR has no field 'MM'", "did you mean 'M'"]),
    ("field name not a string", lambda s: s.state(CPSR={5: 1}), ["CPSR has no field 5 "]),
    ("field value too wide", lambda s: s.state(CPSR={"M": 0x20}), ["CPSR.M: 0x20 does not fit in 5 bits"]),
    ("field value not a number", lambda s: s.state(CPSR={"M": "usr"}),
     ["CPSR.M: expected an integer, got 'usr'"]),
    ("fields of an array", lambda s: s.state(_R={"X": 1}), ["_R: expected a list of 31 bits(32) values"]),
    ("field of a map", lambda s: s.field("PhysMem", "X", 0), ["PhysMem has no named fields"]),
    ("field of an unknown register", lambda s: s.field("CPSRR", "M", 0),
     ["unknown register or global 'CPSRR'"]),
    ("unknown field read", lambda s: s.field("CPSR", "MM", 0), ["CPSR has no field 'MM'"]),
    ("field read of a string", lambda s: s.field("CPSR", "M", "0x10"),
     ["CPSR: expected an integer, got '0x10'"]),
    ("field read of a value too wide", lambda s: s.field("CPSR", "M", 1 << 40),
     ["CPSR: 0x10000000000 does not fit in 32 bits"]),
    # maps
    ("map given a number", lambda s: s.state(PhysMem=1), ["PhysMem is a map from bits(37) to bits(64)"]),
    ("map given a list", lambda s: s.state(PhysMem=[1, 2]), ["PhysMem is a map", "not [1, 2]"]),
    ("memory address not a number", lambda s: s.state(PhysMem={"0x10": 1}),
     ["PhysMem address: expected an integer, got '0x10'"]),
    ("memory address past 40 bits", lambda s: s.state(PhysMem={1 << 40: 1}),
     ["PhysMem address: 0x10000000000 does not fit in 40 bits"]),
    ("memory address off a word", lambda s: s.state(PhysMem={0x14: 1}),
     ["PhysMem address 0x14", "a multiple of 8"]),
    ("map value too wide", lambda s: s.state(PhysMem={16: 1 << 64}),
     ["PhysMem[0x10]: 0x10000000000000000 does not fit in 64 bits"]),
    ("map value not a number", lambda s: s.state(PhysMem={16: None}),
     ["PhysMem[0x10]: expected an integer, got None"]),
    ("map key too wide", lambda s: s.state(TLB_S2={1 << 39: 1}),
     ["TLB_S2 key: 0x8000000000 does not fit in 39 bits"]),
    # arrays
    ("array given a number", lambda s: s.state(PMEVCNTR=5),
     ["PMEVCNTR: expected a list of 6 bits(32) values, got 5"]),
    ("array given a mapping", lambda s: s.state(PMEVCNTR={i: 0 for i in range(6)}),
     ["PMEVCNTR: expected a list of 6 bits(32) values"]),
    ("array given a string", lambda s: s.state(PMEVCNTR="abcdef"), ["PMEVCNTR: expected a list of 6"]),
    ("array given a generator", lambda s: s.state(PMEVCNTR=(x for x in range(6))),
     ["PMEVCNTR: expected a list of 6"]),
    ("array too short", lambda s: s.state(PMEVCNTR=[0] * 5), ["PMEVCNTR: expected 6 elements"]),
    ("array element too wide", lambda s: s.state(PMEVCNTR=[0] * 5 + [1 << 32]),
     ["PMEVCNTR[5]: 0x100000000 does not fit in 32 bits"]),
    # state
    ("state a dict", lambda s: s.call("CurrentPL", state={"CPSR": 0x10}),
     ["CurrentPL: state: expected a State (from Spec.state())"]),
    ("state a number", lambda s: s.call("CurrentPL", state=5), ["CurrentPL: state: expected a State"]),
    ("set on something that is not a State", lambda s: s.set(object(), "CPSR", 0),
     ["setting 'CPSR': expected a State"]),
    ("oracle seed not a number", lambda s: s.state(oracle_seed="seven"),
     ["oracle_seed: expected an integer, got 'seven'"]),
    # functions and their arguments
    ("unknown function", lambda s: s.call("CurrentPl"),
     ["unknown spec function 'CurrentPl'", "did you mean 'CurrentPL'"]),
    ("function name not a string", lambda s: s.call(["CurrentPL"]), ["unknown spec function ['CurrentPL']"]),
    ("unknown function, symbolically", lambda s: s.symbolic("CurrentPl"),
     ["unknown spec function 'CurrentPl'"]),
    ("too many arguments", lambda s: s.call("CurrentPL", 1), ["CurrentPL takes 0 argument(s), 1 given"]),
    ("enumeration member unknown", lambda s: s.call(S2T, 0, "AccType_BOGUS", False),
     ["argument acctype: expected one of AccType_NORMAL, AccType_IFETCH; got 'AccType_BOGUS'"]),
    ("enumeration member a list", lambda s: s.call(S2T, 0, ["AccType_NORMAL"], False),
     ["argument acctype: expected one of"]),
    ("boolean argument a number", lambda s: s.call(S2T, 0, "AccType_NORMAL", 1),
     ["argument iswrite: expected a boolean, got 1"]),
    ("bits argument too wide", lambda s: s.call(S2T, 1 << 40, "AccType_NORMAL", False),
     ["argument ipa: 0x10000000000 does not fit in 40 bits"]),
    ("integer argument beyond 64 bits", lambda s: s.call("Rmode", 1 << 64, 0x10),
     ["Rmode argument n: 18446744073709551616 does not fit a 64-bit integer"]),
    ("symbolic globals not a mapping", lambda s: s.symbolic("CurrentPL", globals_in=[1]),
     ["globals_in: expected a mapping of global names to terms"]),
    ("symbolic global unknown", lambda s: s.symbolic("CurrentPL", globals_in={"CPSRR": None}),
     ["unknown register or global 'CPSRR'"]),
]


@pytest.mark.parametrize("what, call, messages", WRONG_ARGUMENTS, ids=[w for w, _, _ in WRONG_ARGUMENTS])
def test_a_wrong_argument_is_a_state_error_naming_it(spec: Spec, what: str, call: Callable[[Spec], Any],
                                                     messages: list[str]) -> None:
    with pytest.raises(StateError) as raised:
        call(spec)
    for message in messages:
        assert message in str(raised.value), what


def test_the_same_calls_made_right_go_through(spec: Spec) -> None:
    """The checks refuse only what is wrong."""
    state = spec.state(CPSR={"M": 0x13}, PMEVCNTR=[1, 2, 3, 4, 5, 6], PhysMem={0x10: 1 << 63})
    assert spec.field("CPSR", "M", state.CPSR) == 0x13
    assert state.PMEVCNTR == (1, 2, 3, 4, 5, 6) and spec.memory(state) == {0x10: 1 << 63}
    assert state.PhysMem == {2: 1 << 63}  # the state keeps words by index: the byte address over 8
    assert spec.call("CurrentPL", state=state) == 1  # Supervisor mode is PL1
    assert spec.symbolic("CurrentPL", globals_in={}).function == "CurrentPL"
