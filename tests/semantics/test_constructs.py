"""Every construct of the language, run both ways: the two semantics must agree.

`constructs.md` uses each construct (arrays, records, maps, registers,
slices with dynamic positions, shifts past the width, DIV and MOD on
negative numbers, loops counting down, UNKNOWN of every kind, forall); the
tests evaluate its functions concretely and symbolically on random inputs
and compare every output and every global written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import z3
from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from hypspec.concrete.runtime import NotExecutable
from hypspec.proof.prover import PROVED, prove
from tests.helpers.agreement import assert_agree, symbolic

CHAPTER = Path(__file__).with_name("constructs.md")
INT = st.integers(-(2**20), 2**20)


@pytest.fixture(scope="module")
def constructs() -> Spec:
    return Spec.load(CHAPTER)


def _agree(spec: Spec, name: str, args: list, table: dict[int, int], seed: int) -> None:
    assert_agree(spec, name, args, lambda: spec.state(oracle_seed=seed, Table=table))


BITS16 = st.integers(0, 2**16 - 1)
BITS8 = st.integers(0, 255)
TABLES = st.dictionaries(st.integers(0, 63), BITS16, max_size=6)


@settings(max_examples=150)
@given(a=st.integers(0, 2**32 - 1), b=st.integers(0, 2**32 - 1), start=st.integers(-1, 33))
def test_early_returns_agree(constructs: Spec, a: int, b: int, start: int) -> None:
    _agree(constructs, "Test.EarlyReturns", [a, b, start], {}, 0)


def test_paths_after_early_returns_stay_conjunctions(constructs: Spec) -> None:
    """A statement after `if C then return;` runs under the tests taken so far, not under the
    negation of every earlier return's whole path. The only disjunctions left in the result of
    `Test.EarlyReturns` are where the paths rejoin, one per iteration: the branch that may
    have returned and the one that cannot (the encoding that left the model's round-trip
    queries undecided has 95)."""
    result = symbolic(constructs, "Test.EarlyReturns").evaluation.result
    seen: set[int] = set()
    pending = [result]
    disjunctions = 0
    while pending:
        term = pending.pop()
        if term.get_id() not in seen:
            seen.add(term.get_id())
            disjunctions += z3.is_or(term)
            pending.extend(term.children())
    assert disjunctions <= 32, disjunctions


@settings(max_examples=150)
@given(a=BITS16, b=BITS16, n=st.integers(-2, 40))
def test_bit_operations_agree(constructs: Spec, a: int, b: int, n: int) -> None:
    if n < 0:
        return  # a negative shift or slice position has no meaning in either semantics
    if n > 13:
        n = n % 14  # v<n+:3> must stay inside the 16-bit word
    _agree(constructs, "Test.Bits", [a, b, n], {}, 0)


@settings(max_examples=150)
@given(a=BITS16, n=st.integers(-40, 40))
def test_shifts_by_any_amount_agree(constructs: Spec, a: int, n: int) -> None:
    """A negative amount once stopped the compiled spec with Python's own error while the
    symbolic semantics shifted everything out (a replayed counterexample met it)."""
    _agree(constructs, "Test.Shifts", [a, n], {}, 0)


@settings(max_examples=150)
@given(tag=st.integers(0, 3), doit=st.booleans(), value=BITS16, table=TABLES)
def test_clears_agree(constructs: Spec, tag: int, doit: bool, value: int, table: dict[int, int]) -> None:
    _agree(constructs, "Test.Clear", [tag, doit, value], table, 0)


def test_a_clear_reaches_exactly_the_keys_it_names(constructs: Spec) -> None:
    """Written out by hand: tag 2 clears the odd keys 0x21..0x2F; 0x21 is then written; with
    REG.Mode 3 the second clear takes 0x03, 0x13 and 0x33 but keeps tag 2's keys."""
    table = {0x21: 1, 0x23: 2, 0x22: 3, 0x13: 4, 0x33: 5, 0x03: 6, 0x04: 7}
    state = constructs.state(Table=table, REG={"Mode": 3})
    constructs.call("Test.Clear", 2, True, 0x1234, state=state)
    assert {k: v for k, v in state.Table.items() if v} == {0x21: 0x1234, 0x22: 3, 0x04: 7}


@settings(max_examples=150)
@given(a=BITS8, n=INT)
def test_integer_operations_agree(constructs: Spec, a: int, n: int) -> None:
    _agree(constructs, "Test.Integers", [a, n], {}, 0)


@settings(max_examples=150)
@given(a=BITS8, kind=st.integers(0, 2), index=st.integers(-3, 6))
def test_records_and_arrays_agree(constructs: Spec, a: int, kind: int, index: int) -> None:
    _agree(constructs, "Test.Records", [a, kind, index], {}, 0)


@settings(max_examples=150)
@given(a=BITS8, b=BITS8)
def test_record_locals_agree(constructs: Spec, a: int, b: int) -> None:
    """Scalar-replaced record locals and inlined straight-line functions (hypspec.concrete.compiler)."""
    _agree(constructs, "Test.RecordLocals", [a, b], {}, 0)


@settings(max_examples=20)
@given(a=BITS8)
def test_arms_after_an_always_taken_arm_are_not_evaluated(constructs: Spec, a: int) -> None:
    """The symbolic evaluator must not evaluate a call in an unreachable `elsif` condition."""
    _agree(constructs, "Test.ConstantDispatch", [a], {}, 0)


def test_record_locals_worked_example(constructs: Spec) -> None:
    # a = 0x81: p = (low 0x81, flag, count 2, kind B); b = 0x35: other = (0x35, no flag, count 6, kind C).
    # p.low<3:0> = 3 -> 0x83; weights: p 102, other 6 -> nest.inner.count 108. b<0> = 1: other = p,
    # then other.low<7> = 1 -> 0x83; other's weight 102 > 50.
    nest = constructs.call("Test.RecordLocals", 0x81, 0x35)
    assert nest["inner"] == {"low": 0x35, "kind": "Kind_C", "flag": False, "count": 108}
    assert nest["cells"] == [0x83, 0x83, 0xFFFF, 0]


@settings(max_examples=150)
@given(key=st.integers(0, 63), value=BITS16, table=TABLES)
def test_maps_and_registers_agree(constructs: Spec, key: int, value: int, table: dict) -> None:
    _agree(constructs, "Test.State", [key, value], table, 0)


@settings(max_examples=60)
@given(a=BITS8, seed=st.integers(0, 1000))
def test_unknowns_agree_for_every_seed(constructs: Spec, a: int, seed: int) -> None:
    _agree(constructs, "Test.Unknowns", [a], {}, seed)


def test_forall_is_proved_and_not_executable(constructs: Spec) -> None:
    assert prove(constructs, "Test.Algebra").status == PROVED
    with pytest.raises(NotExecutable, match="proof-only"):
        constructs.compiled.function("Test.Algebra")(constructs.state(), 5)


def test_a_long_case_takes_the_first_arm_that_names_its_value(constructs: Spec) -> None:
    """Every 5-bit input, both semantics, and the arms worked out by hand from the chapter's text:
    3 is named twice and the first arm (12) takes it; 11 and 13+ are named by no arm of the first
    `case` (19); the second `case` adds 100 * (a + 1) for a in 0..6, 800 for 31, nothing else."""
    first = {0: 10, 1: 11, 2: 11, 3: 12, 4: 13, 5: 14, 6: 15, 7: 16, 8: 16, 9: 16, 10: 17, 12: 18}
    second = {**{a: 100 * (a + 1) for a in range(7)}, 31: 800}
    run = constructs.compiled.function("Test.LongCase")
    for a in range(32):
        assert run(constructs.state(), a) == first.get(a, 19) + second.get(a, 0), a
        _agree(constructs, "Test.LongCase", [a], {}, 0)
