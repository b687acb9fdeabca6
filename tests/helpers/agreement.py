"""Assert that the concrete and symbolic semantics agree (design: "Two semantics from one tree").

Thin test wrappers over `hypspec.symbolic.instantiate.disagreements`, which does the
comparison; here the symbolic call of each function is built once per spec and the
failure message names every output that differs.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from hypspec.api import Spec, State, SymbolicCall
from hypspec.symbolic.instantiate import disagreements


@cache
def symbolic(spec: Spec, name: str) -> SymbolicCall:
    """`spec.symbolic(name)`, built once: symbolic evaluation is the slow part."""
    return spec.symbolic(name)


def assert_agree(spec: Spec, name: str, args: list[Any], make_state: Callable[[], State]) -> None:
    """Both semantics of `name`, on internal `args` and a state from `make_state()`, agree."""
    differing = disagreements(spec, symbolic(spec, name), args, make_state)
    assert not differing, f"{name}{args}: the two semantics differ on {', '.join(differing)}"


def agree(spec: Spec, name: str, args: list[Any], registers: dict[str, Any], seed: int = 0) -> None:
    """Both semantics of `name` agree on internal `args`, with `registers` and the oracle `seed`."""
    assert_agree(spec, name, args, lambda: spec.state(oracle_seed=seed, **registers))


def agree_api(spec: Spec, name: str, args: list[Any], registers: dict[str, Any], seed: int = 0) -> None:
    """As `agree`, with `args` as `spec.call` takes them (enumerations by name, records as dicts)."""
    params = spec.program.functions[name].params
    encoded = [spec.encode(a, p.ty, name) for a, p in zip(args, params, strict=True)]  # type: ignore[arg-type]
    agree(spec, name, encoded, registers, seed)
