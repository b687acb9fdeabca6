"""What every category's comparison shares: a disagreement, and a masked check of one value.

A category's own ``conform`` module (``hypspec/categories/<category>/conform.py``) decides which
values its vectors expect and where the harness reports them; these are the terms it says it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypspec.conformance.errors import ConformanceInputError

WORD = 0xFFFF_FFFF
DOUBLEWORD = (1 << 64) - 1


@dataclass(frozen=True)
class Disagreement:
    """One field on which the implementation did not do what the vector expected."""

    vector_id: str
    category: str
    field: str  # one of the harness's fields, or ``memory[<pa>]``
    expected: str  # hex, or an outcome name
    observed: str  # hex, or an outcome name with the harness's detail
    flags: tuple[str, ...]
    mask: str | None = None  # hex; None for the outcome
    xor: int | None = None  # an exact script read: the bits (under the mask) that differ

    @property
    def base_field(self) -> str:
        """The field without its address: ``memory[0x50000000]`` -> ``memory``."""
        return self.field.split("[", 1)[0]


@dataclass(frozen=True)
class Check:
    """One compared value: ``observed & mask == expected & mask``."""

    field: str
    expected: int
    mask: int
    digits: int  # hex digits to print

    def hex(self, value: int) -> str:
        return f"{value:#0{self.digits + 2}x}"


def vector_error(vector: dict[str, Any], message: str) -> ConformanceInputError:
    return ConformanceInputError(f"vector {vector.get('id', '?')!r}: {message}")


def register_mask(vector: dict[str, Any], register: str) -> int:
    """The vector's mask for ``register`` (``masks[<reg>]``; absent: every bit)."""
    text = vector["masks"].get(register)
    return WORD if text is None else int(text, 16)


def checked(
    vector: dict[str, Any], category: str, check: Check, value: int | None, flags: tuple[str, ...],
    detail: str = "",
) -> Disagreement | None:
    """The disagreement of one masked check against the observed `value` (None: not observed)."""
    if value is not None and value & check.mask == check.expected & check.mask:
        return None
    seen = "none" if value is None else check.hex(value)
    if value is None and detail:
        seen += f" ({detail})"
    return Disagreement(
        vector["id"], category, check.field, check.hex(check.expected), seen, flags, check.hex(check.mask)
    )


def same_vector(vector: dict[str, Any], observation: Any) -> None:
    """Refuse to compare an observation with another vector than its own (a bug, not input)."""
    if observation.id != vector["id"]:
        raise ValueError(f"observation {observation.id!r} is not of vector {vector['id']!r}")
