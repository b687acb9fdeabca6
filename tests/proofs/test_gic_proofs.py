"""The GIC virtual interface properties (proofs/gic.md) are proved, and each is
seen to fail on a mutant of proofs/mutants/gic.toml with a replayed counterexample."""

from __future__ import annotations

import pytest

from hypspec.api import Spec
from tests.helpers.proofs import assert_caught, assert_proved, caught_properties, mutants_of

GIC_MUTANTS = mutants_of("gic.toml")


def gic_properties(spec: Spec) -> list[str]:
    return sorted(name for name, f in spec.program.functions.items()
                  if f.is_property and name.startswith("VGIC."))


def test_the_chapter_states_the_issue_properties(spec_with_proofs: Spec) -> None:
    names = set(gic_properties(spec_with_proofs))
    assert {"VGIC.AcknowledgeReturnsListedInterrupt", "VGIC.EOIChangesOnlyItsListRegister"} <= names
    assert len(names) >= 5


def test_every_property_is_proved(spec_with_proofs: Spec) -> None:
    """Proof times are measured by `make bench`, not asserted here."""
    for name in gic_properties(spec_with_proofs):
        assert_proved(spec_with_proofs, name)


def test_every_property_has_a_mutant_that_breaks_it(spec_with_proofs: Spec) -> None:
    assert caught_properties(GIC_MUTANTS) >= set(gic_properties(spec_with_proofs))


@pytest.mark.parametrize("mutant", GIC_MUTANTS, ids=lambda m: m.name)
def test_mutant_is_caught_with_a_replayed_counterexample(mutant) -> None:
    assert_caught(mutant)
