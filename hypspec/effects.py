"""What one concrete call did to the state: every global it read, every one it changed (before and
after), every map entry it read or wrote, and every UNKNOWN it chose. `hypspec run` prints it, so
a user sees the call's own footprint rather than the state's distance from reset.

The compiled code reads and writes the state as attributes (`S.HCR`) and maps by key
(`S.PhysMem.get(k)`); a call is traced by handing it a stand-in that notes each attribute it
reads before writing it, with every map replaced by a recording copy (`RecordingMap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypspec.api import MEMORY
from hypspec.concrete.runtime import RecordingMap
from hypspec.lang.types import Map, zero_value

if TYPE_CHECKING:
    from hypspec.api import Spec, State


@dataclass
class Effects:
    """One call's footprint, values in API form (enumeration members by name, records as dicts)."""

    result: Any
    read: dict[str, Any] = field(default_factory=dict)  # global -> its value when first read
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # global -> (before, after)
    # (map, key) -> value; physical memory keyed by byte address, as the API takes it
    entries_read: dict[tuple[str, int], Any] = field(default_factory=dict)
    entries_changed: dict[tuple[str, int], tuple[Any, Any]] = field(default_factory=dict)
    unknowns: dict[str, int] = field(default_factory=dict)  # file:line:col -> the value chosen

    def as_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "read": self.read,
            "changed": {name: {"before": b, "after": a} for name, (b, a) in self.changed.items()},
            "entries_read": [{"map": m, "key": k, "value": v} for (m, k), v in self.entries_read.items()],
            "entries_changed": [{"map": m, "key": k, "before": b, "after": a}
                                for (m, k), (b, a) in self.entries_changed.items()],
            "unknowns": self.unknowns,
        }


class _Watched:
    """The state as the compiled code sees it, noting each global read before the call wrote it."""

    def __init__(self, state: State, names: set[str]) -> None:
        object.__setattr__(self, "_state", state)
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "read", {})
        object.__setattr__(self, "written", set())

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._state, name)
        if name in self._names and name not in self.written:
            self.read.setdefault(name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        self.written.add(name)
        setattr(self._state, name, value)


def traced_call(spec: Spec, name: str, args: list[Any], state: State) -> Effects:
    """Call `name` with internal `args` on `state` (which it updates) and say what it did."""
    program = spec.program
    maps = {n for n, g in program.globals.items() if isinstance(g.ty, Map)}
    before = {n: getattr(state, n) for n in program.globals if n not in maps}
    originals = {n: dict(getattr(state, n)) for n in maps}
    recorded = {n: RecordingMap(originals[n]) for n in maps}
    for n, copy in recorded.items():
        setattr(state, n, copy)
    watched = _Watched(state, set(before))
    func = program.functions[name]
    earlier = dict(state.oracle.chosen)
    state.oracle.chosen.clear()
    try:
        raw = spec.compiled.function(name)(watched, *args)
    finally:
        chosen = dict(state.oracle.chosen)
        state.oracle.chosen.update(earlier | chosen)
        for n, copy in recorded.items():  # the state keeps plain maps, even if the call stopped
            setattr(state, n, dict(copy))
    effects = Effects(spec.decode(raw, func.result_ty) if func.result_ty else None)
    for n, value in watched.read.items():
        effects.read[n] = spec.decode(value, program.globals[n].ty)
    for n, old in before.items():
        new = getattr(state, n)
        if new != old:
            ty = program.globals[n].ty
            effects.changed[n] = (spec.decode(old, ty), spec.decode(new, ty))
    for n, copy in recorded.items():
        elem = program.globals[n].ty.elem  # type: ignore[attr-defined]
        empty = zero_value(elem)  # what a key no one wrote holds
        shown = (lambda key: key << 3) if n == MEMORY else (lambda key: key)
        for key, value in sorted(copy.read.items()):
            effects.entries_read[(n, shown(key))] = spec.decode(value, elem)
        for key in sorted(copy.written):
            old, new = originals[n].get(key, empty), copy[key]
            if new != old:
                effects.entries_changed[(n, shown(key))] = (spec.decode(old, elem), spec.decode(new, elem))
    effects.unknowns = chosen
    return effects
