"""Instantiate symbolic terms with concrete inputs, to compare the two semantics.

The terms of a `SymbolicCall` range over free parameters, free global state
and one fresh constant per UNKNOWN. Substituting concrete values for all of
them and simplifying must give back, field for field, what the concrete
semantics computed for the same inputs; the differential tests check that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.concrete.runtime import Oracle
from hypspec.lang.checker import to_signed
from hypspec.lang.types import Array, Int, Map, Record, Type
from hypspec.symbolic.evaluator import SymValue, sort_of, to_z3, zero

#: One output of a run: its label, its symbolic term, its concrete value, its type.
Output = tuple[str, SymValue, Any, Type]


def _pairs(value: SymValue, concrete: Any, ty: Type) -> list[tuple[z3.ExprRef, z3.ExprRef]]:
    """(free constant, concrete literal) pairs for one input of a type."""
    if isinstance(ty, Record):
        return [
            p
            for v, c, (_, t) in zip(value, concrete, ty.fields, strict=True)  # type: ignore[arg-type]
            for p in _pairs(v, c, t)
        ]
    if isinstance(ty, Array):
        return [p for v, c in zip(value, concrete, strict=True) for p in _pairs(v, c, ty.elem)]  # type: ignore[arg-type]
    if isinstance(ty, Map):
        array = z3.K(z3.BitVecSort(ty.key.width), to_z3(zero(ty.elem), ty.elem))  # unwritten reads 0
        for key, item in sorted(concrete.items()):
            array = z3.Store(array, z3.BitVecVal(key, ty.key.width), to_z3(item, ty.elem))
        return [(value, array)]  # type: ignore[list-item]
    assert isinstance(value, z3.ExprRef)
    return [(value, to_z3(concrete, ty))]


def substitution(spec: Spec, call: SymbolicCall, args: list[Any], state: State) -> list[tuple]:
    """Every free constant of `call` paired with its value in this concrete run."""
    func = spec.program.functions[call.function]
    pairs: list[tuple] = []
    for value, concrete, param in zip(call.args, args, func.params, strict=True):
        assert param.ty is not None
        pairs += _pairs(value, concrete, param.ty)
    for name, info in spec.program.globals.items():
        pairs += _pairs(call.inputs[name], getattr(state, name), info.ty)
    pairs += unknown_pairs(call, state.oracle)
    return pairs


def unknown_pairs(call: SymbolicCall, oracle: Oracle) -> list[tuple]:
    pairs = []
    for loc, const in call.evaluation.unknowns:
        is_bool = const.sort() == z3.BoolSort()
        width = 1 if is_bool else const.sort().size()  # type: ignore[attr-defined]
        value = oracle.value(loc, width)
        literal = z3.BoolVal(bool(value)) if is_bool else z3.BitVecVal(value, width)
        pairs.append((const, literal))
    return pairs


def concrete_value(term: SymValue, ty: Type, pairs: list[tuple]) -> Any:
    """The Python value of a term once every free constant is substituted."""
    if isinstance(ty, Record):
        return tuple(concrete_value(v, t, pairs) for v, (_, t) in zip(term, ty.fields, strict=True))  # type: ignore[arg-type]
    if isinstance(ty, Array):
        return tuple(concrete_value(v, ty.elem, pairs) for v in term)  # type: ignore[union-attr]
    if not isinstance(term, z3.ExprRef):
        return term
    literal = z3.simplify(z3.substitute(term, *pairs)) if pairs else z3.simplify(term)
    if z3.is_true(literal) or z3.is_false(literal):
        return z3.is_true(literal)
    if z3.is_bv_value(literal):
        value = literal.as_long()  # type: ignore[attr-defined]
        return to_signed(value) if isinstance(ty, Int) else value
    raise ValueError(f"term did not reduce to a constant: {literal}")


def map_equals(term: SymValue, concrete: dict[int, Any], ty: Map, pairs: list[tuple]) -> bool:
    """Whether a symbolic map, instantiated, holds exactly the concrete entries."""
    instantiated = z3.substitute(term, *pairs)  # type: ignore[arg-type]
    expected = _pairs(z3.Const("expected", sort_of(ty)), concrete, ty)[0][1]
    solver = z3.Solver()
    solver.add(instantiated != expected)
    return solver.check() == z3.unsat


def disagreements(spec: Spec, call: SymbolicCall, args: list[Any],
                  make_state: Callable[[], State]) -> list[str]:
    """The outputs on which the two semantics of `call.function` differ for one input.

    `args` are internal values (as the compiled function takes them); `make_state`
    builds a fresh state, oracle included, and is called twice: once for the inputs
    the symbolic terms are instantiated with, once for the compiled run. `call` is
    `spec.symbolic(name)`, which callers cache (building it is the slow part).
    Returns the labels ("result", or a global's name) of every output whose
    instantiated term differs from the concrete value; empty when they agree.

    A global whose final term is its initial constant is untouched symbolically,
    so it agrees exactly when the run left it unchanged: compared in Python. The
    other scalar outputs are checked in one substitution (a conjunction of
    equalities that simplifies to TRUE); only when it does not are they compared
    one by one, to name the ones that differ. A written map is compared by a
    solver call (`map_equals`), since its concrete side holds only written keys.
    """
    func = spec.program.functions[call.function]
    before = make_state()
    pairs = substitution(spec, call, args, before)
    after = make_state()
    result = spec.compiled.function(call.function)(after, *args)
    wrong: list[str] = []
    outputs: list[Output] = []
    if func.result_ty is not None:
        outputs.append(("result", call.evaluation.result, result, func.result_ty))
    for name, info in spec.program.globals.items():
        term, value = call.evaluation.globals[name], getattr(after, name)
        if _same_term(term, call.inputs[name]):
            if value != getattr(before, name):
                wrong.append(name)
        elif isinstance(info.ty, Map):
            if not map_equals(term, value, info.ty, pairs):
                wrong.append(name)
        else:
            outputs.append((name, term, value, info.ty))
    return wrong + _differing(outputs, pairs)


def _differing(outputs: list[Output], pairs: list[tuple]) -> list[str]:
    """The labels of the scalar outputs whose instantiated term is not the concrete value."""
    equalities = [e for _, term, value, ty in outputs for e in _equalities(term, value, ty)]
    if not equalities:
        return []
    conjunction = z3.And(equalities)
    if z3.is_true(z3.simplify(z3.substitute(conjunction, *pairs) if pairs else conjunction)):
        return []
    return [label for label, term, value, ty in outputs if concrete_value(term, ty, pairs) != value]


def _equalities(term: SymValue, value: Any, ty: Type) -> list[z3.BoolRef]:
    """`term == value`, component by component, as Z3 formulas."""
    if isinstance(ty, Record):
        return [e for t, v, (_, f) in zip(term, value, ty.fields, strict=True)  # type: ignore[arg-type]
                for e in _equalities(t, v, f)]
    if isinstance(ty, Array):
        return [e for t, v in zip(term, value, strict=True) for e in _equalities(t, v, ty.elem)]  # type: ignore[arg-type]
    return [to_z3(term, ty) == to_z3(value, ty)]


def _same_term(term: SymValue, start: SymValue) -> bool:
    """Whether a global's final term is its initial one (so only the concrete side can differ)."""
    if isinstance(term, tuple):
        return all(_same_term(t, s) for t, s in zip(term, start, strict=True))  # type: ignore[arg-type]
    return isinstance(term, z3.ExprRef) and isinstance(start, z3.ExprRef) and term.eq(start)
