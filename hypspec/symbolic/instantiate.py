"""Instantiate symbolic terms with concrete inputs, to compare the two semantics.

The terms of a `SymbolicCall` range over free parameters, free global state
and one fresh constant per UNKNOWN. Substituting concrete values for all of
them and simplifying must give back, field for field, what the concrete
semantics computed for the same inputs; the differential tests check that.
"""

from __future__ import annotations

from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.concrete.runtime import Oracle
from hypspec.lang.checker import to_signed
from hypspec.lang.types import Array, Int, Map, Record, Type
from hypspec.symbolic.evaluator import SymValue, sort_of, to_z3, zero


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
