"""Semantic types of the specification language.

Every value has a statically known size, so each type maps onto a fixed Z3
sort: `bits(N)` a bit-vector of N bits, `boolean` a Bool, `integer` a 64-bit
two's-complement bit-vector (the checker keeps integers to bounded uses), an
enumeration the smallest bit-vector that holds its members, and records and
arrays tuples of their parts. Maps exist only as global state (memory and
hypervisor tables) and become Z3 arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

INTEGER_BITS = 64  # integers are 64-bit two's complement in both semantics
MAX_WIDTH = 1 << 16  # [WIDTH-LIMIT] the widest bit string and the longest array


@dataclass(frozen=True)
class Layout:
    """Named fields of a bit-string type: the one place field positions live."""

    name: str
    fields: tuple[tuple[str, int, int], ...]  # (name, hi, lo)

    def get(self, name: str) -> tuple[int, int] | None:
        for field_name, hi, lo in self.fields:
            if field_name == name:
                return hi, lo
        return None


class Type:
    """Base class of the semantic types."""


@dataclass(frozen=True)
class Bits(Type):
    width: int
    layout: Layout | None = field(default=None, compare=False, hash=False)

    def __str__(self) -> str:
        return self.layout.name if self.layout else f"bits({self.width})"


@dataclass(frozen=True)
class Bool(Type):
    def __str__(self) -> str:
        return "boolean"


@dataclass(frozen=True)
class Int(Type):
    def __str__(self) -> str:
        return "integer"


@dataclass(frozen=True)
class Enum(Type):
    name: str
    members: tuple[str, ...]

    @property
    def width(self) -> int:
        return max(1, (len(self.members) - 1).bit_length())

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Record(Type):
    name: str
    fields: tuple[tuple[str, Type], ...]

    def index_of(self, name: str) -> int | None:
        for i, (field_name, _) in enumerate(self.fields):
            if field_name == name:
                return i
        return None

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Array(Type):
    elem: Type
    length: int

    def __str__(self) -> str:
        return f"array [{self.length}] of {self.elem}"


@dataclass(frozen=True)
class Map(Type):
    key: Bits
    elem: Type

    def __str__(self) -> str:
        return f"map {self.key} of {self.elem}"


BOOL = Bool()
INT = Int()


def width_of(ty: Type | None) -> int:
    """The bit width a scalar value occupies (integers are 64-bit two's complement)."""
    if isinstance(ty, Bits | Enum):
        return ty.width
    return INTEGER_BITS


def zero_value(ty: Type) -> object:
    """The value a declared-but-unassigned local or an unwritten map entry holds."""
    if isinstance(ty, Bool):
        return False
    if isinstance(ty, Record):
        return tuple(zero_value(t) for _, t in ty.fields)
    if isinstance(ty, Array):
        return tuple(zero_value(ty.elem) for _ in range(ty.length))
    if isinstance(ty, Map):
        return {}
    return 0
