"""The two ways an obligation is settled without a query of its own, each sound and each checked
here against the query it replaces: a goal that is one of the obligation's hypotheses term for
term (the step left all it reads unchanged), and hypotheses shown satisfiable by a model found
for an earlier case (`hypspec.model.satisfiable`)."""

from __future__ import annotations

import pytest
import z3

from hypspec.model.induction import UNCHANGED, discharge_transition
from hypspec.model.noninterference import UNCHANGED as UNCHANGED_IN_BOTH_RUNS
from hypspec.model.noninterference import discharge_noninterference
from hypspec.model.program import Model, load_model
from hypspec.model.satisfiable import KnownModels
from hypspec.proof.prover import PROVED


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model()


def test_a_step_that_changes_nothing_an_invariant_reads_keeps_it_without_a_query(model: Model) -> None:
    """`KVM.KickVcpu` changes only the wait loop's maps: the trap configuration's goal is its own
    hypothesis; the wake-up invariant, which reads those maps, is asked of the solver."""
    kept, asked = discharge_transition(model, "KVM.KickVcpu", ["KVM.Inv.TrapConfiguration",
                                                               "KVM.Inv.NoLostWakeup"])
    assert (kept.status, kept.detail) == (PROVED, UNCHANGED)
    assert (asked.status, asked.detail) == (PROVED, "")


def test_a_step_that_changes_nothing_an_observation_reads_needs_no_query(model: Model) -> None:
    """Nothing a saved context word's observation reads is the wait loop's; what the host sees
    includes the interrupt lines `KVM.SetIrqLine` raises, so that goal is asked."""
    [unread] = discharge_noninterference(model, "KVM.KickVcpu", ["KVM.NoLeak.VcpuWord"])
    assert (unread.status, unread.detail) == (PROVED, UNCHANGED_IN_BOTH_RUNS)
    [written] = discharge_noninterference(model, "KVM.SetIrqLine", ["KVM.NoLeak.VcpuData"])
    assert (written.status, written.detail) == (PROVED, "")


def test_a_known_model_settles_satisfiability_and_only_a_true_one() -> None:
    x, y = z3.BitVecs("x y", 8)
    known = KnownModels()
    assert known.satisfiable([x == 3, y == 4], 10) == (z3.sat, "")
    [found] = known.models
    assert known.satisfiable([x + y == 7, x != 0], 10) == (z3.sat, "")
    assert known.models == [found]  # settled by the model, no query
    assert known.satisfiable([x == 5], 10) == (z3.sat, "")  # the model says x is 3: asked
    assert len(known.models) == 2
    assert known.satisfiable([x == 5, x == 6], 10) == (z3.unsat, "")
    assert known.satisfying([x == 5, x == 6]) is None
