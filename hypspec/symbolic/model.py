"""Reading values out of a Z3 model, in the concrete semantics' representation."""

from __future__ import annotations

from typing import Any

import z3

from hypspec.api import SymbolicCall
from hypspec.lang.checker import to_signed
from hypspec.lang.types import Array, Bool, Enum, Int, Map, Record, Type
from hypspec.symbolic.evaluator import SymValue


def unknown_values(model: z3.ModelRef, call: SymbolicCall) -> dict[str, int]:
    values = {}
    for loc, const in call.evaluation.unknowns:
        value = model.eval(const, model_completion=True)
        values[loc] = int(z3.is_true(value)) if z3.is_bool(value) else value.as_long()  # type: ignore[attr-defined]
    return values


def map_reader(model: z3.ModelRef, term: SymValue, ty: Map):
    def read(key: int) -> Any:
        selected = z3.Select(term, z3.BitVecVal(key, ty.key.width))  # type: ignore[arg-type]
        return model_value(model, selected, ty.elem)

    return read


def model_value(model: z3.ModelRef, term: SymValue, ty: Type) -> Any:
    if isinstance(ty, Record):
        return tuple(model_value(model, v, t) for v, (_, t) in zip(term, ty.fields, strict=True))  # type: ignore[arg-type]
    if isinstance(ty, Array):
        return tuple(model_value(model, v, ty.elem) for v in term)  # type: ignore[union-attr]
    if not isinstance(term, z3.ExprRef):
        return term
    value = model.eval(term, model_completion=True)
    if isinstance(ty, Bool):
        return z3.is_true(value)
    number = value.as_long()  # type: ignore[attr-defined]
    if isinstance(ty, Int):
        return to_signed(number)
    if isinstance(ty, Enum):
        return min(number, len(ty.members) - 1)
    return number
