"""The GIC virtual interface chapter of proofs/ states the properties its issue asked for (that
each is proved and has a caught mutant is tests/proofs/test_every_property.py's)."""

from __future__ import annotations

from hypspec.api import Spec


def gic_properties(spec: Spec) -> list[str]:
    return sorted(name for name, f in spec.program.functions.items()
                  if f.is_property and name.startswith("VGIC."))


def test_the_chapter_states_the_issue_properties(spec_with_proofs: Spec) -> None:
    names = set(gic_properties(spec_with_proofs))
    assert {"VGIC.AcknowledgeReturnsListedInterrupt", "VGIC.EOIChangesOnlyItsListRegister"} <= names
    assert len(names) >= 5
