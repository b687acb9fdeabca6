"""Who refers to whom: the "Used by" and "Properties that depend on it" lists."""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.site.uses import Use

# The declarations the prover shows to hold: what a definition's dependents are listed from.
PROVED_KINDS = frozenset({"property", "invariant"})


@dataclass(frozen=True)
class Graph:
    uses: dict[str, set[str]]  # a definition → the definitions its block names
    used_by: dict[str, list[str]]  # a definition → the definitions that name it, sorted
    dependents: dict[str, list[str]]  # a definition → the properties that reach it, sorted


def build_graph(uses: dict[str, list[Use]], kinds: dict[str, str]) -> Graph:
    edges = {name: {u.definition for u in found if u.definition != name} for name, found in uses.items()}
    used_by: dict[str, set[str]] = {name: set() for name in edges}
    for user, targets in edges.items():
        for target in targets:
            used_by.setdefault(target, set()).add(user)
    dependents: dict[str, set[str]] = {name: set() for name in edges}
    for proved in (name for name, kind in kinds.items() if kind in PROVED_KINDS):
        for reached in reachable(edges, proved) - {proved}:
            dependents.setdefault(reached, set()).add(proved)
    return Graph(edges, _sorted(used_by), _sorted(dependents))


def reachable(edges: dict[str, set[str]], start: str) -> set[str]:
    """Everything `start` refers to, directly or through what it refers to, and itself."""
    seen = {start}
    todo = [start]
    while todo:
        for target in edges.get(todo.pop(), ()):
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


def _sorted(table: dict[str, set[str]]) -> dict[str, list[str]]:
    return {name: sorted(names, key=str.lower) for name, names in table.items()}
