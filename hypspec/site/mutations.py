"""Which mutant changes which definition, and which mutants each property must catch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hypspec.proof.mutants import Mutant, obligation_subject, read_mutants
from hypspec.site.definitions import Definition

# Where a tree keeps its mutants, relative to the repository root.
MUTANT_DIRS = ("proofs/mutants", "models/mutants")


@dataclass(frozen=True)
class Mutations:
    changing: dict[str, list[Mutant]]  # a definition → the mutants whose `find` lies in its block
    catching: dict[str, list[Mutant]]  # a property or invariant → the mutants it must refute
    every: list[Mutant]  # every mutant of the tree, placed or not


def read_all(root: Path) -> list[Mutant]:
    return [m for d in MUTANT_DIRS if (root / d).is_dir() for m in read_mutants(root / d)]


def place_mutants(mutants: list[Mutant], definitions: dict[str, Definition]) -> Mutations:
    changing: dict[str, list[Mutant]] = {}
    catching: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        changed = changed_definition(mutant, definitions)
        if changed is not None:
            changing.setdefault(changed.name, []).append(mutant)
        for name in sorted({obligation_subject(entry) for entry in mutant.caught_by}):
            if name in definitions:
                catching.setdefault(name, []).append(mutant)
    return Mutations(changing, catching, list(mutants))


def changed_definition(mutant: Mutant, definitions: dict[str, Definition]) -> Definition | None:
    """The definition whose block holds the text the mutant replaces (applying a mutant requires
    that text to occur once in its chapter), or None when it lies outside every block."""
    for definition in definitions.values():
        if definition.page.path != mutant.file:
            continue
        at = definition.page.text.find(mutant.find)
        if at < 0:
            return None
        first = definition.page.text.count("\n", 0, at) + 1
        last = first + mutant.find.rstrip("\n").count("\n")
        if definition.first_line <= first and last <= definition.last_line:
            return definition
    return None
