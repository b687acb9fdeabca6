"""The Python API: load the spec, build state by name, call functions both ways.

    spec = Spec.load()                                  # spec/ and its manifest
    state = spec.state(VTCR={"T0SZ": 0, "SL0": 1}, VTTBR=0x48000000)
    result = spec.call("AArch32.SecondStageTranslate", ipa, "AccType_NORMAL", False, 4,
                       state=state)
    terms = spec.symbolic("AArch32.SecondStageTranslate")   # Z3 terms over free inputs

Values cross the boundary as plain Python: bit strings and integers as ints,
booleans as bools, enumeration members by name, records as dicts by field
name, arrays as lists, maps as dicts. Physical memory (`PhysMem`) is given
and read back (`Spec.memory`) by the byte address of each 64-bit word, as on
the command line; a `State` keeps it internally by word index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypspec.concrete.compiler import CompiledSpec, compile_program
from hypspec.concrete.runtime import Oracle
from hypspec.lang.checker import GlobalInfo, Program, mask, to_signed
from hypspec.lang.load import LoadedSpec, load, text_hash
from hypspec.lang.types import Array, Bits, Bool, Enum, Int, Map, Record, Type, zero_value
from hypspec.names import did_you_mean, quoted, unknown_name

# the repository's places, which callers have long taken from here
from hypspec.paths import MODEL_DIR as MODEL_DIR
from hypspec.paths import MODELS_DIR as MODELS_DIR
from hypspec.paths import PROOFS_DIR as PROOFS_DIR
from hypspec.paths import ROOT as ROOT
from hypspec.paths import SPEC_DIR as SPEC_DIR
from hypspec.paths import proof_tree as proof_tree

if TYPE_CHECKING:
    import z3

    from hypspec.effects import Effects
    from hypspec.symbolic.evaluator import Evaluation, SymValue

# The symbolic side (Z3 and the evaluator) is imported where it is used: a concrete run
# (`hypspec run`, a conformance check) never needs it, and it is a tenth of the start-up time.



def spec_hash(root: Path = ROOT) -> str:
    """The spec hash: of the architecture's chapters (spec/ in manifest order), with one meaning
    everywhere: what a vector file records, and what `check`, `prove` and `conform` print. (The
    hash of every chapter a command loaded, models and proofs included, is its tree hash.)"""
    return text_hash([root / "spec"])


class StateError(ValueError):
    """A register, field or value given to the API does not exist or does not fit."""


def _check_state(state: object, what: str) -> None:
    if not isinstance(state, State):
        raise StateError(f"{what}: expected a State (from Spec.state()), got {state!r}")


#: Physical memory (spec/00): words of 64 bits, which the API and the command line address by byte.
MEMORY = "PhysMem"


def _key_text(key: object) -> str:
    return f"{key:#x}" if isinstance(key, int) and not isinstance(key, bool) else repr(key)


@dataclass
class State:
    """Concrete architectural state: one attribute per global, plus the oracle."""

    oracle: Oracle = field(default_factory=Oracle)


@dataclass(frozen=True)
class SymbolicCall:
    """A function evaluated over free inputs: the terms and what they range over."""

    function: str
    args: list[SymValue]
    inputs: dict[str, SymValue]  # free global state before the call
    evaluation: Evaluation
    constraints: list[z3.BoolRef]  # enumeration inputs stay inside their members


class Spec:
    def __init__(self, loaded: LoadedSpec) -> None:
        self.loaded = loaded
        self.program: Program = loaded.program

    @classmethod
    def load(cls, *paths: Path | str) -> Spec:
        chosen = [Path(p) for p in paths] or [SPEC_DIR]
        return cls(load(chosen))

    @property
    def digest(self) -> str:
        return self.loaded.digest

    @cached_property
    def compiled(self) -> CompiledSpec:
        return _compile_cached(self.loaded)

    @cached_property
    def traced(self) -> CompiledSpec:
        """A build that records every decision taken, for path coverage."""
        return compile_program(self.program, trace=True, loaded=self.loaded.cache_key)

    # ---- concrete --------------------------------------------------------------------

    def state(self, oracle_seed: int = 0, **values: Any) -> State:
        """Reset state, with registers (int or {field: value}) and maps overridden."""
        if not isinstance(oracle_seed, int) or isinstance(oracle_seed, bool):
            raise StateError(f"oracle_seed: expected an integer, got {oracle_seed!r}")
        state = State(Oracle(oracle_seed))
        for name, info in self.program.globals.items():
            start = info.reset if info.reset is not None else zero_value(info.ty)
            setattr(state, name, dict(start) if isinstance(start, dict) else start)
        for name, value in values.items():
            self.set(state, name, value)
        return state

    def set(self, state: State, name: str, value: Any) -> None:
        _check_state(state, f"setting {name!r}")
        info = self._global(name)
        ty = info.ty
        if isinstance(ty, Bits) and isinstance(value, Mapping):
            current = getattr(state, name)
            for field_name, field_value in value.items():
                current = self._set_field(name, current, field_name, field_value)
            setattr(state, name, current)
        elif isinstance(ty, Map):
            if not isinstance(value, Mapping):
                raise StateError(f"{name} is a map from {ty.key} to {ty.elem}: give it as a mapping of keys "
                                 f"to values (on the command line, physical memory is set with --mem), "
                                 f"not {value!r}")
            setattr(state, name, {
                self._map_key(name, k, ty): self.encode(v, ty.elem, f"{name}[{_key_text(k)}]")
                for k, v in value.items()
            })
        else:
            setattr(state, name, self.encode(value, ty, name))

    def _map_key(self, name: str, key: object, ty: Map) -> int:
        """A map key as the user gives it: physical memory by the byte address of a 64-bit word
        (as on the command line and in the ARM ARM), every other map by its own key."""
        if name != MEMORY:
            return self.encode(key, ty.key, f"{name} key")  # type: ignore[no-any-return]
        address = self.encode(key, Bits(ty.key.width + 3), f"{name} address")
        if address % 8:
            raise StateError(f"{name} address {address:#x}: physical memory is given a 64-bit word at a "
                             f"time, at a byte address that is a multiple of 8")
        return address >> 3  # type: ignore[no-any-return]

    def memory(self, state: State) -> dict[int, int]:
        """Physical memory as the API takes it: the words written or given, by byte address."""
        _check_state(state, "memory: state")
        return {key << 3: word for key, word in getattr(state, MEMORY).items()}

    def _global(self, name: object) -> GlobalInfo:
        info = self.program.globals.get(name) if isinstance(name, str) else None
        if info is None:
            raise StateError(unknown_name("register or global", name, self.program.globals,
                                          "; `hypspec list registers` lists the registers"))
        return info

    def _field_position(self, reg: str, name: object) -> tuple[int, int]:
        """Where field `name` of register `reg` sits: (hi, lo)."""
        ty = self._global(reg).ty
        if not isinstance(ty, Bits) or ty.layout is None:
            raise StateError(f"{reg} has no named fields: give it as a whole {ty}")
        position = ty.layout.get(name) if isinstance(name, str) else None
        if position is None:
            known = [f for f, _, _ in ty.layout.fields]
            raise StateError(f"{reg} has no field {quoted(name)}{did_you_mean(name, known)} "
                             f"(fields: {', '.join(known)})")
        return position

    def _set_field(self, reg: str, current: int, name: str, value: int) -> int:
        hi, lo = self._field_position(reg, name)
        value = self.encode(value, Bits(hi - lo + 1), f"{reg}.{name}")
        field_mask = mask(hi - lo + 1) << lo
        return (current & ~field_mask) | (value << lo)

    def field(self, register: str, name: str, value: int) -> int:
        """One field of a register value, by name."""
        hi, lo = self._field_position(register, name)
        value = self.encode(value, self._global(register).ty, register)
        return (value >> lo) & mask(hi - lo + 1)

    def call(self, name: str, *args: Any, state: State | None = None) -> Any:
        """Run a spec function concretely; arguments and result in API form."""
        func = self._function(name)
        result = self.compiled.function(name)(state or self.state(), *self._arguments(name, args, state))
        return self.decode(result, func.result_ty) if func.result_ty else None

    def trace(self, name: str, *args: Any, state: State | None = None) -> Effects:
        """As `call`, and say what the call did: the globals it read, those it changed (before and
        after), the map entries it read or changed and the UNKNOWNs it chose (`hypspec.effects`)."""
        from hypspec.effects import traced_call

        encoded = self._arguments(name, args, state)
        return traced_call(self, name, encoded, state or self.state())

    def _arguments(self, name: str, args: Sequence[Any], state: State | None) -> list[Any]:
        """A call's arguments in internal form, once the function, their number and the state are
        known good."""
        func = self._function(name)
        if state is not None:
            _check_state(state, f"{name}: state")
        if len(args) != len(func.params):
            raise StateError(f"{name} takes {len(func.params)} argument(s), {len(args)} given")
        return [
            self.encode(a, p.ty, f"{name} argument {p.name}")  # type: ignore[arg-type]
            for a, p in zip(args, func.params, strict=True)
        ]

    def _function(self, name: str):
        func = self.program.functions.get(name) if isinstance(name, str) else None
        if func is None:
            raise StateError(unknown_name("spec function", name, self.program.functions,
                                          "; `hypspec list functions` lists them"))
        return func

    # ---- symbolic --------------------------------------------------------------------

    def symbolic(self, name: str, globals_in: Mapping[str, SymValue] | None = None) -> SymbolicCall:
        """Evaluate a function over fresh inputs, and global state that is fresh except for the
        globals `globals_in` gives."""
        from hypspec.symbolic.evaluator import SymbolicEvaluator, domain, fresh

        func = self._function(name)
        constraints: list[z3.BoolRef] = []
        args = []
        for param in func.params:
            assert param.ty is not None
            value = fresh(f"{param.name}", param.ty)
            constraints.extend(domain(value, param.ty))
            args.append(value)
        inputs = self.fresh_globals()
        if globals_in is not None:
            if not isinstance(globals_in, Mapping):
                raise StateError(f"globals_in: expected a mapping of global names to terms, "
                                 f"got {globals_in!r}")
            for given in globals_in:
                self._global(given)
            inputs.update(globals_in)  # the globals not given stay free
        evaluator = SymbolicEvaluator(self.program, dict(inputs))
        evaluation = evaluator.call(name, args)
        return SymbolicCall(name, args, inputs, evaluation, constraints)

    def fresh_globals(self) -> dict[str, SymValue]:
        from hypspec.symbolic.evaluator import fresh

        return {name: fresh(name, info.ty) for name, info in self.program.globals.items()}

    # ---- value conversion ------------------------------------------------------------

    def encode(self, value: Any, ty: Type, what: str) -> Any:
        """API value -> internal value, with a precise error for a bad one."""
        if isinstance(ty, Bool):
            if not isinstance(value, bool):
                raise StateError(f"{what}: expected a boolean, got {value!r}")
            return value
        if isinstance(ty, Enum):
            if value not in ty.members:
                raise StateError(f"{what}: expected one of {', '.join(ty.members)}; got {value!r}")
            return ty.members.index(value)
        if isinstance(ty, Record):
            if not isinstance(value, Mapping) or set(value) != {f for f, _ in ty.fields}:
                raise StateError(f"{what}: expected a {ty.name} with fields {[f for f, _ in ty.fields]}")
            return tuple(self.encode(value[f], t, f"{what}.{f}") for f, t in ty.fields)
        if isinstance(ty, Array):
            if not isinstance(value, Sequence) or isinstance(value, str | bytes):
                raise StateError(f"{what}: expected a list of {ty.length} {ty.elem} values, got {value!r}")
            if len(value) != ty.length:
                raise StateError(f"{what}: expected {ty.length} elements")
            return tuple(self.encode(v, ty.elem, f"{what}[{i}]") for i, v in enumerate(value))
        if not isinstance(value, int) or isinstance(value, bool):
            raise StateError(f"{what}: expected an integer, got {value!r}")
        if isinstance(ty, Int):
            if value != to_signed(value):
                raise StateError(f"{what}: {value} does not fit a 64-bit integer")
            return value
        assert isinstance(ty, Bits)
        if not 0 <= value <= mask(ty.width):
            raise StateError(f"{what}: {value:#x} does not fit in {ty.width} bits")
        return value

    def decode(self, value: Any, ty: Type) -> Any:
        """Internal value -> API value."""
        if isinstance(ty, Enum):
            return ty.members[value]
        if isinstance(ty, Record):
            return {f: self.decode(v, t) for (f, t), v in zip(ty.fields, value, strict=True)}
        if isinstance(ty, Array):
            return [self.decode(v, ty.elem) for v in value]
        return value


_COMPILED: dict[str, CompiledSpec] = {}


def _compile_cached(loaded: LoadedSpec) -> CompiledSpec:
    """Compile once per load within a process (and, on disk, once per load and engine)."""
    if loaded.cache_key not in _COMPILED:
        _COMPILED[loaded.cache_key] = compile_program(loaded.program, loaded=loaded.cache_key)
    return _COMPILED[loaded.cache_key]
