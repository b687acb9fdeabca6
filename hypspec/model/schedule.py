"""The order in which processes take a model's transitions to prove: the heaviest first.

`prove_model` hands each transition's obligations to whichever process is free. Their costs
differ by a factor of fifty (KVM/ARM's trapped CP15 access takes minutes of solving, a host's
store a few seconds), and in the model's own order the heaviest come last: one process then
proves them alone while the other has finished. Taken longest first, the last to finish are
short ones (Graham's LPT rule: a wall time within 4/3 of the best schedule's).

What a transition costs is known only from proving it, so each run stores the CPU seconds each
transition took in the cache (`hypspec.cache`), by the transition's name, and the next run orders
by them. A transition with no stored time goes first: it is new or renamed, and may be the
heaviest. The order changes only when work is done, never what is proved or the order results
are reported in.
"""

from __future__ import annotations

import json

from hypspec import cache


def heaviest_first(names: list[str]) -> list[str]:
    """`names` in the order to prove them: those with no stored time first, in their own order,
    then the rest by the time they took, longest first."""
    took = _stored(names)
    unknown = [name for name in names if name not in took]
    known = sorted((name for name in names if name in took), key=lambda name: -took[name])
    return unknown + known


def remember(seconds: dict[str, float]) -> None:
    """Store the CPU seconds each transition took, for the next run's order (beside the times of
    transitions the run did not prove)."""
    took = _stored(None) | seconds
    cache.write(_entry(), json.dumps(took, sort_keys=True).encode())


def _stored(names: list[str] | None) -> dict[str, float]:
    """The stored times of `names` (of every transition, with None)."""
    data = cache.read(_entry())
    if data is None:
        return {}
    try:
        took = json.loads(data)
    except ValueError:  # a damaged entry is a miss, as every cache entry's is
        return {}
    if not isinstance(took, dict):
        return {}
    return {name: float(value) for name, value in took.items()
            if (names is None or name in names) and _seconds(value)}


def _seconds(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _entry() -> str:
    # One entry for every model: the times stay a good guide after an edit to a chapter, which is
    # when a user proves a model again, and transitions are named in their model's namespace.
    return cache.key("proof-times")
