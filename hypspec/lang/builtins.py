"""The built-in functions of the language and their typing rules.

These are the ARM pseudocode library functions (DDI 0406C.d, Appendix P
"Pseudocode definition", section "Bitstring manipulation" and "Arithmetic").
They are width-polymorphic, which user functions are not, so their types are
computed here and their meaning is given once per semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hypspec.lang.types import BOOL, INT, INTEGER_BITS, MAX_WIDTH, Bits, Int, Type


class BuiltinTypeError(Exception):
    """A built-in applied to arguments of the wrong kind."""


@dataclass(frozen=True)
class Builtin:
    name: str
    arity: int
    # (argument types, constant values of the arguments or None) -> result type
    result: Callable[[list[Type], list[int | None]], Type]
    doc: str


def _bits_arg(name: str, ty: Type, position: int) -> Bits:
    if not isinstance(ty, Bits):
        raise BuiltinTypeError(f"{name}: argument {position} must be a bit string, not {ty}")
    return ty


def _const_arg(name: str, value: int | None, position: int, what: str) -> int:
    if value is None:
        raise BuiltinTypeError(f"{name}: argument {position} ({what}) must be a constant")
    return value


def _uint(tys: list[Type], consts: list[int | None]) -> Type:
    arg = _bits_arg("UInt", tys[0], 1)
    if arg.width >= INTEGER_BITS:
        raise BuiltinTypeError(
            f"UInt of a {arg.width}-bit value does not fit a 64-bit integer; slice it first"
        )
    return INT


def _sint(tys: list[Type], consts: list[int | None]) -> Type:
    arg = _bits_arg("SInt", tys[0], 1)
    if arg.width > INTEGER_BITS:
        raise BuiltinTypeError(f"SInt of a {arg.width}-bit value does not fit a 64-bit integer")
    return INT


def _width_arg(name: str, value: int | None, position: int, what: str) -> int:
    width = _const_arg(name, value, position, what)
    if width > MAX_WIDTH:
        raise BuiltinTypeError(f"{name}: {width} bits is wider than the limit of {MAX_WIDTH}")
    return width


def _extend(name: str) -> Callable[[list[Type], list[int | None]], Type]:
    def rule(tys: list[Type], consts: list[int | None]) -> Type:
        arg = _bits_arg(name, tys[0], 1)
        width = _width_arg(name, consts[1], 2, "the result width")
        if width < arg.width:
            raise BuiltinTypeError(f"{name} to {width} bits would shrink a {arg.width}-bit value")
        return Bits(width)

    return rule


def _fill(name: str) -> Callable[[list[Type], list[int | None]], Type]:
    def rule(tys: list[Type], consts: list[int | None]) -> Type:
        width = _width_arg(name, consts[0], 1, "the width")
        if width < 1:
            raise BuiltinTypeError(f"{name}({width}): a width must be at least 1")
        return Bits(width)

    return rule


def _test(name: str) -> Callable[[list[Type], list[int | None]], Type]:
    def rule(tys: list[Type], consts: list[int | None]) -> Type:
        _bits_arg(name, tys[0], 1)
        return BOOL

    return rule


def _align(tys: list[Type], consts: list[int | None]) -> Type:
    size = _const_arg("Align", consts[1], 2, "the alignment")
    if size < 1 or size & (size - 1):
        raise BuiltinTypeError(f"Align: the alignment {size} is not a power of two")
    if isinstance(tys[0], Int):
        return INT
    return Bits(_bits_arg("Align", tys[0], 1).width)


def _shift(name: str) -> Callable[[list[Type], list[int | None]], Type]:
    def rule(tys: list[Type], consts: list[int | None]) -> Type:
        arg = _bits_arg(name, tys[0], 1)
        if not isinstance(tys[1], Int):
            raise BuiltinTypeError(f"{name}: the shift amount must be an integer, not {tys[1]}")
        return Bits(arg.width)

    return rule


def _minmax(name: str) -> Callable[[list[Type], list[int | None]], Type]:
    def rule(tys: list[Type], consts: list[int | None]) -> Type:
        if not all(isinstance(t, Int) for t in tys):
            raise BuiltinTypeError(f"{name} takes two integers")
        return INT

    return rule


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin("UInt", 1, _uint, "the unsigned integer value of a bit string"),
        Builtin("SInt", 1, _sint, "the two's-complement integer value of a bit string"),
        Builtin("ZeroExtend", 2, _extend("ZeroExtend"), "widen with zeros on the left"),
        Builtin("SignExtend", 2, _extend("SignExtend"), "widen with copies of the top bit"),
        Builtin("Zeros", 1, _fill("Zeros"), "a bit string of N zeros"),
        Builtin("Ones", 1, _fill("Ones"), "a bit string of N ones"),
        Builtin("IsZero", 1, _test("IsZero"), "TRUE when every bit is 0"),
        Builtin("IsOnes", 1, _test("IsOnes"), "TRUE when every bit is 1"),
        Builtin("Align", 2, _align, "round down to a multiple of a power of two"),
        Builtin("LSL", 2, _shift("LSL"), "logical shift left"),
        Builtin("LSR", 2, _shift("LSR"), "logical shift right"),
        Builtin("ASR", 2, _shift("ASR"), "arithmetic shift right"),
        Builtin("Min", 2, _minmax("Min"), "the smaller of two integers"),
        Builtin("Max", 2, _minmax("Max"), "the larger of two integers"),
    ]
}
