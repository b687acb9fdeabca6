"""The induction engine on small models written for the purpose: what it proves, what it refutes
(with a replayed counterexample to induction), and what it refuses to count as a proof."""

from __future__ import annotations

from pathlib import Path

import pytest
import z3

from hypspec.api import Spec
from hypspec.lang.diagnostics import SpecError
from hypspec.model.induction import (
    INITIAL,
    SAFETY,
    STEP,
    Obligation,
    _World,
    discharge,
    obligations,
    prove_invariant,
)
from hypspec.model.machine import Machine
from hypspec.model.program import Model, ModelError
from hypspec.proof.prover import PROVED, REFUTED, VACUOUS

# The PE type every small model here declares.
PE_DECL = """
### `PE`
*Source:* test.
```spec
type PE is bits(3) { 2:0 Aff0 };
```
"""

HEADER = """# A counter per PE
""" + PE_DECL + """
### `Count`
*Source:* test.
```spec
shared var map bits(3) of bits(8) Count;
```

### `Last`
*Source:* test.
```spec
register bits(8) Last { 7:0 Value };
```
"""

STEP_TEXT = """
### `Tick()`
*Source:* test.
```spec
transition Tick(PE pe)
    if Count[pe] == 0x10 then
        return;
    Count[pe] = Count[pe] + 1;
    Last = Count[pe];
```
"""

BOUNDED = """
### `Bounded()`
*Source:* test.
```spec
invariant Bounded(PE pe)
    return UInt(Count[pe]) <= 0x10;
```
"""

MIRROR = """
### `Mirror()`
*Source:* test.
```spec
invariant Mirror(PE pe)
    return Count[pe] == 0 || Last == Count[pe];
```
"""


def model_of(tmp_path: Path, *parts: str) -> Model:
    chapter = tmp_path / "counter.md"
    chapter.write_text(HEADER + "".join(parts), encoding="utf-8")
    return Model(Spec.load(chapter))


def test_an_inductive_invariant_is_proved_one_obligation_per_transition(tmp_path: Path) -> None:
    model = model_of(tmp_path, STEP_TEXT, BOUNDED, MIRROR)
    obs = obligations(model)
    assert {(o.kind, o.invariant, o.transition) for o in obs} == {
        (INITIAL, "Bounded", None), (INITIAL, "Mirror", None), (SAFETY, None, "Tick"),
        (STEP, "Bounded", "Tick"), (STEP, "Mirror", "Tick")}
    assert all(discharge(model, o).status == PROVED for o in obs)


def test_a_broken_step_is_refuted_with_a_replayed_counterexample(tmp_path: Path) -> None:
    broken = STEP_TEXT.replace("    Last = Count[pe];", "    Last = Count[pe] + 1;")
    model = model_of(tmp_path, broken, MIRROR)
    result = prove_invariant(model, "Mirror")
    assert result.status == REFUTED
    assert result.counterexample is not None and result.counterexample.replayed
    assert "Mirror is FALSE after Tick" in result.counterexample.render()


def test_another_pes_bank_is_untouched_but_shared_state_is_not(tmp_path: Path) -> None:
    """A step on PE c that writes the counter of PE c+1 breaks Mirror on the other PE only:
    the obligation's second case (d != c) is the one that finds it."""
    broken = STEP_TEXT.replace("    Count[pe] = Count[pe] + 1;",
                               "    Count[pe] = Count[pe] + 1;\n    Count[pe + 1] = 0x05;")
    model = model_of(tmp_path, broken, MIRROR)
    result = discharge(model, Obligation(STEP, "Mirror", "Tick"))
    assert result.status == REFUTED and result.counterexample is not None
    assert len(result.counterexample.banks) == 2 or "Tick.pe" in result.counterexample.params


def test_an_invariant_false_initially_is_refuted(tmp_path: Path) -> None:
    model = model_of(tmp_path, STEP_TEXT, MIRROR.replace("Count[pe] == 0 ||", "Count[pe] != 0 &&"))
    result = discharge(model, Obligation(INITIAL, "Mirror", None))
    assert result.status == REFUTED and result.counterexample is not None
    assert result.counterexample.replayed


def test_an_assert_a_step_can_break_fails_its_safety_obligation(tmp_path: Path) -> None:
    asserting = STEP_TEXT.replace("    Last = Count[pe];", "    Last = Count[pe];\n    assert Last != 0x03;")
    model = model_of(tmp_path, asserting, BOUNDED)
    result = discharge(model, Obligation(SAFETY, None, "Tick"))
    assert result.status == REFUTED and result.counterexample is not None
    assert "stops at an assert" in result.counterexample.outcome


def test_hypotheses_that_cannot_hold_are_vacuous_not_proved(tmp_path: Path) -> None:
    never = BOUNDED.replace("return UInt(Count[pe]) <= 0x10;", "return FALSE;").replace("Bounded", "Never")
    model = model_of(tmp_path, STEP_TEXT, MIRROR, never)
    assert discharge(model, Obligation(STEP, "Mirror", "Tick")).status == VACUOUS


def test_a_model_needs_a_transition(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no transition"):
        model_of(tmp_path, BOUNDED)


def test_the_machine_keeps_one_bank_per_pe(tmp_path: Path) -> None:
    model = model_of(tmp_path, STEP_TEXT, BOUNDED, MIRROR)
    machine = Machine(model, 3)
    for pe in (0, 1, 1, 2, 2, 2):
        machine.run("Tick", pe)
    assert [machine.bank(pe)["Last"] for pe in range(3)] == [1, 2, 3]
    assert machine.state.Count == {0: 1, 1: 2, 2: 3}
    assert machine.violations() == []


GUARDED = """
### `Wrap()`
*Source:* test.
```spec
transition Wrap(PE pe)
    if UInt(Count[pe]) > 0x10 then
        Count[pe] = 0x01;
        Last = 0x77;
        return;
    Last = Count[pe];
```
"""


def test_paths_the_hypotheses_rule_out_are_not_evaluated(tmp_path: Path) -> None:
    """`Bounded` rules out `Count[pe] > 0x10`, so the step's state after is its other path alone,
    with no ite for the test (the obligations stay small); the obligations are still proved."""
    model = model_of(tmp_path, GUARDED, BOUNDED, MIRROR)
    world = _World(model, "Wrap", True, False)
    last = z3.simplify(world.after_banks[0]["Last"])
    assert not any(z3.is_app_of(t, z3.Z3_OP_ITE) for t in _subterms(last)), last
    assert all(discharge(model, o).status == PROVED for o in obligations(model))


def test_a_path_the_hypotheses_allow_is_kept(tmp_path: Path) -> None:
    """Without `Bounded` the wrap-around path is possible, stays in the step, and breaks `Mirror`
    (the count is 1, Last 0x77): the pruning removes nothing a counterexample needs."""
    model = model_of(tmp_path, GUARDED, MIRROR)
    result = prove_invariant(model, "Mirror")
    assert result.status == REFUTED and result.counterexample is not None
    assert result.counterexample.replayed


CLAMPED = """
### `Clamp()`
*Source:* test.
```spec
transition Clamp(PE pe)
    if UInt(Count[pe]) > 0x10 then
        Last = 0x01;
        return;
    Last = Count[pe];
```

### `Trivial()`
*Source:* test.
```spec
invariant Trivial(PE pe)
    return TRUE;
```

### `Low()`
*Source:* test.
```spec
invariant Low(PE pe) assuming (Trivial)
    return UInt(Last) <= 0x10;
```
"""


def test_an_assuming_list_keeps_the_invariants_the_step_was_evaluated_under(tmp_path: Path) -> None:
    """`Low` assumes only a trivial invariant, but `Clamp` was evaluated with its first path ruled
    out by `Bounded` at its own PE. Without that instance the solver would take a count above
    0x10 down the path left, a state the compiled model runs down the other path, and the
    obligation would be undecided; with it, as the oracle reports it used, it is proved."""
    model = model_of(tmp_path, CLAMPED, BOUNDED)
    assert discharge(model, Obligation(STEP, "Low", "Clamp")).status == PROVED
    assert model.step_cache["Clamp"].pruned_by == {"Bounded"}


IDS = """
### `Id`
*Source:* test.
```spec
type Id is bits(4) { 3:0 N };
```

### `Value`
*Source:* test.
```spec
shared var map bits(4) of bits(8) Value;
```

### `Ghost`
*Source:* test.
```spec
shared var map bits(4) of bits(8) Ghost;
```

### `Put()`
*Source:* test.
```spec
transition Put(PE pe, Id i, bits(8) x)
    Value[i] = x;
    Ghost[i] = x;
```

### `PutLast()`
*Source:* test.
```spec
transition PutLast(PE pe, bits(8) x)
    i = Last<3:0>;
    Value[i] = x;
    Ghost[i] = x;
```

### `Same()`
*Source:* test.
```spec
invariant Same(Id i)
    return Value[i] == Ghost[i];
```
"""


def test_an_invariants_id_is_split_by_whether_the_step_names_it(tmp_path: Path) -> None:
    """After `Put(i)` the invariant's own id is `i` or another one, and after `PutLast` it is the
    id the step writes under (`Last<3:0>`) or another: two cases each, both proved."""
    model = model_of(tmp_path, IDS)
    for step in ("Put", "PutLast"):
        world = _World(model, step, True, False)
        _, args = world.goals("Same")
        assert len(world.alias_cases("Same", args)) == 2, step
        assert discharge(model, Obligation(STEP, "Same", step)).status == PROVED


def test_a_write_to_another_id_is_refuted_in_its_own_case(tmp_path: Path) -> None:
    broken = IDS.replace("    Value[i] = x;\n    Ghost[i] = x;\n```\n\n### `PutLast",
                         "    Value[i] = x;\n    Ghost[i] = x;\n    Value[i + 1] = x;\n```\n\n### `PutLast")
    model = model_of(tmp_path, broken)
    result = discharge(model, Obligation(STEP, "Same", "Put"))
    assert result.status == REFUTED and result.counterexample is not None
    assert result.counterexample.replayed


def _subterms(term: z3.ExprRef) -> list[z3.ExprRef]:
    found, pending = [], [term]
    while pending:
        t = pending.pop()
        found.append(t)
        pending.extend(t.children())
    return found


LINKED = """# Values copied along links
""" + PE_DECL + """
### `Val`
*Source:* test.
```spec
shared var map bits(4) of bits(8) Val;
```

### `Next`
*Source:* test.
```spec
shared var map bits(4) of bits(4) Next;
```

### `Pull()`
*Source:* test.
```spec
transition Pull(PE pe, bits(4) x)
    Val[x] = Val[Next[x]];
```

### `Even()`
*Source:* test.
```spec
invariant Even(bits(4) x)
    return Val[x]<0> == '0';
```
"""

LINK_WITNESS = """
### `Linked()`
*Source:* test.
```spec
witness bits(4) Linked(bits(4) x)
    return Next[x];
```
"""


def test_a_witness_adds_the_instance_a_step_needs(tmp_path: Path) -> None:
    """`Pull(x)` copies the value at `Next[x]`, an id the state holds, not one the step names:
    without a witness the obligation has no hypothesis there and fails with a counterexample to
    induction; the witness `Linked(x)` adds the instance and the obligation is proved."""
    chapter = tmp_path / "linked.md"
    chapter.write_text(LINKED, encoding="utf-8")
    without = discharge(Model(Spec.load(chapter)), Obligation(STEP, "Even", "Pull"))
    assert without.status == REFUTED
    chapter.write_text(LINKED + LINK_WITNESS, encoding="utf-8")
    model = Model(Spec.load(chapter))
    assert [w.name for w in model.witnesses] == ["Linked"]
    assert discharge(model, Obligation(STEP, "Even", "Pull")).status == PROVED


def test_a_witness_cannot_be_called(tmp_path: Path) -> None:
    caller = """
### `Peek()`
*Source:* test.
```spec
bits(4) Peek()
    return Linked(0);
```
"""
    chapter = tmp_path / "linked.md"
    chapter.write_text(LINKED + LINK_WITNESS + caller, encoding="utf-8")
    with pytest.raises(SpecError, match="Linked is a witness and cannot be called"):
        Spec.load(chapter)


NUMBERED = """# Processors that know their numbers
""" + PE_DECL + """
### `MPIDR`
*Source:* test.
```spec
register bits(32) MPIDR { 7:0 Aff0 } = 0x80000000;
```

### `Seen`
*Source:* test.
```spec
shared var map bits(3) of bits(8) Seen;
```

### `Look()`
*Source:* test.
```spec
transition Look(PE pe)
    Seen[pe] = MPIDR.Aff0;
```

### `SeesItself()`
*Source:* test.
```spec
invariant SeesItself(PE pe)
    return Seen[pe] == Zeros(8) || Seen[pe] == ZeroExtend(pe, 8);
```
"""


def test_every_pe_bank_holds_its_own_number(tmp_path: Path) -> None:
    """MPIDR.Aff0 numbers the PEs: the machine gives each bank its number, and the prover assumes
    it of every bank, so a step that records the number it reads records its own PE's."""
    chapter = tmp_path / "numbered.md"
    chapter.write_text(NUMBERED, encoding="utf-8")
    model = Model(Spec.load(chapter))
    machine = Machine(model, 4)
    assert [machine.bank(pe)["MPIDR"] for pe in range(4)] == [0x80000000 | pe for pe in range(4)]
    machine.run("Look", 3)
    assert machine.violations() == []
    assert discharge(model, Obligation(STEP, "SeesItself", "Look")).status == PROVED


LEVELLED = """# A level that rises over counts that stay small
""" + PE_DECL + """
### `Count`
*Source:* test.
```spec
shared var map bits(3) of bits(8) Count;
```

### `Level`
*Source:* test.
```spec
shared var bits(8) Level;
```

### `Raise()`
*Source:* test.
```spec
transition Raise(PE pe)
    if Level == 0x10 then
        return;
    Level = Level + 1;
```

### `LevelSmall()`
*Source:* test.
```spec
invariant LevelSmall()
    return UInt(Level) <= 0x10;
```

### `Small()`
*Source:* test.
```spec
invariant Small(bits(3) c)
    return UInt(Count[c]) <= 0x10;
```

### `Fits()`
*Source:* test.
```spec
invariant Fits(bits(3) c) assuming (ASSUMED)
    return UInt(Count[c]) + UInt(Level) <= 0x20;
```
"""


def levelled(tmp_path: Path, assumed: str) -> Model:
    chapter = tmp_path / "levelled.md"
    chapter.write_text(LEVELLED.replace("ASSUMED", assumed), encoding="utf-8")
    return Model(Spec.load(chapter))


def test_an_assuming_list_is_all_an_obligation_assumes(tmp_path: Path) -> None:
    """`Fits(c)` after `Raise` needs `Small(c)` at the invariant's own id, which the step does not
    name: left out of the assuming list, the obligation is refuted, and the result names the
    invariant the counterexample's state breaks; named, the obligation is proved."""
    model = levelled(tmp_path, "LevelSmall")
    assert model.invariant("Fits").assumed == {"Fits", "LevelSmall"}
    without = discharge(model, Obligation(STEP, "Fits", "Raise"))
    assert without.status == REFUTED
    assert without.detail == "(the state before the step breaks Small, which the assuming list leaves out)"
    proved = discharge(levelled(tmp_path, "LevelSmall, Small"), Obligation(STEP, "Fits", "Raise"))
    assert proved.status == PROVED


def test_an_invariant_without_an_assuming_list_assumes_every_invariant(tmp_path: Path) -> None:
    chapter = tmp_path / "levelled.md"
    chapter.write_text(LEVELLED.replace(" assuming (ASSUMED)", ""), encoding="utf-8")
    model = Model(Spec.load(chapter))
    assert model.invariant("Fits").assumed is None
    assert discharge(model, Obligation(STEP, "Fits", "Raise")).status == PROVED

