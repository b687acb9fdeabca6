"""What the pictures that run the spec share: a value of a bit-field type made from its fields by
name, so that the inputs follow the chapter's own layout (a moved field moves with it)."""

from __future__ import annotations

from collections.abc import Mapping

from hypspec.api import Spec


def pack(spec: Spec, layout: str, values: Mapping[str, int], onto: int = 0) -> int:
    """`onto` (zero unless given), a value of the bit-field type or register `layout`, with its
    named fields replaced by `values`."""
    fields = spec.program.layouts[layout]
    value = onto
    for name, field_value in values.items():
        position = fields.get(name)
        if position is None:
            raise KeyError(f"{layout} has no field {name}")
        hi, lo = position
        mask = (1 << (hi - lo + 1)) - 1
        value = (value & ~(mask << lo)) | ((field_value & mask) << lo)
    return value
