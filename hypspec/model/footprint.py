"""Which globals a function can read and which it can write, from its text and the text of every
function it calls.

A concrete run checks thousands of invariant and observation instances after every step, and most
of them read nothing the step touched. With each step's write set and each check's read set known
statically, a checker re-evaluates only the instances whose reads a step may have changed
(`hypspec.model.machine.Checked`). The sets over-approximate: a global named anywhere in a
function's text counts as read, and one assigned (in part or whole) or cleared anywhere counts as
written, whether or not the path that does it is taken.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.lang import syntax as s
from hypspec.lang.checker import Program


@dataclass(frozen=True)
class Footprint:
    reads: frozenset[str]
    writes: frozenset[str]
    # Whether it draws an UNKNOWN value, which can differ between two evaluations in one state.
    unknown: bool


def footprints(program: Program) -> dict[str, Footprint]:
    """Every function's footprint, its callees' included."""
    reads: dict[str, set[str]] = {}
    writes: dict[str, set[str]] = {}
    calls: dict[str, set[str]] = {}
    unknown: set[str] = set()
    for name, decl in program.functions.items():
        reads[name], writes[name], calls[name] = set(), set(), set()
        for node in s.walk(decl.body):
            if isinstance(node, s.Unknown):
                unknown.add(name)
            elif isinstance(node, s.Var) and node.scope == "global":
                reads[name].add(node.name)
            elif isinstance(node, s.Call) and node.func in program.functions:
                calls[name].add(node.func)
            elif isinstance(node, s.Assign | s.Clear):
                written = _written(node.target if isinstance(node, s.Assign) else node.map)
                if written is not None:
                    writes[name].add(written)
    # A caller reads and writes what its callees do: propagate until nothing changes (the checker
    # rejects recursion, so this ends after as many rounds as the deepest call chain).
    changed = True
    while changed:
        changed = False
        for name, callees in calls.items():
            for callee in callees:
                grows = callee in unknown and name not in unknown
                if grows or not (reads[callee] <= reads[name] and writes[callee] <= writes[name]):
                    reads[name] |= reads[callee]
                    writes[name] |= writes[callee]
                    if callee in unknown:
                        unknown.add(name)
                    changed = True
    return {name: Footprint(frozenset(reads[name] | writes[name]), frozenset(writes[name]), name in unknown)
            for name in program.functions}


def _written(target: s.Expr) -> str | None:
    """The global an assignment's target (`X`, `X.F`, `X[i]`, `X<7:0>` ...) or a clear changes, or
    None when it changes a local."""
    root = s.target_root(target)
    assert isinstance(root, s.Var), f"{target.loc}: an unresolved assignment target"
    return root.name if root.scope == "global" else None
