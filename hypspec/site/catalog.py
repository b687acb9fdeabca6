"""Everything the pages are generated from, worked out once from the checked program."""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.lang.checker import Program
from hypspec.lang.diagnostics import split_lines
from hypspec.proof.mutants import Mutant
from hypspec.site.definitions import Definition, field_anchors, find_definitions
from hypspec.site.graph import Graph, build_graph
from hypspec.site.mutations import Mutations, place_mutants
from hypspec.site.sources import Page, Part
from hypspec.site.uses import Use, uses_of


@dataclass(frozen=True)
class Catalog:
    program: Program
    parts: list[Part]
    definitions: dict[str, Definition]
    fields: dict[str, Definition]  # `HCR.TWI` → the definition whose table has that row
    uses: dict[str, list[Use]]  # a definition → the uses in its block
    graph: Graph
    mutations: Mutations

    @property
    def pages(self) -> list[Page]:
        return [page for part in self.parts for page in part.pages]

    def target(self, name: str) -> Definition:
        """The definition a link to `name` (a definition or a field) lands in."""
        return self.definitions.get(name) or self.fields[name]


def make_catalog(program: Program, parts: list[Part], mutants: list[Mutant]) -> Catalog:
    pages = [page for part in parts for page in part.pages]
    definitions = find_definitions(program, pages)
    lines = {page.display: split_lines(page.text) for page in pages}
    uses = {name: uses_of(program, d, lines[d.page.display]) for name, d in definitions.items()}
    graph = build_graph(uses, {name: d.kind for name, d in definitions.items()})
    return Catalog(program, parts, definitions, field_anchors(program, definitions), uses, graph,
                   place_mutants(mutants, definitions))
