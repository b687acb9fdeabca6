"""The tlb explorer remembers what each operation did (hypspec/categories/tlb/watched.py): the same
records as running every operation on the spec, with far fewer runs, however often it forgets;
and the watched maps log exactly what the spec read of them (#10)."""

from __future__ import annotations

import random
from typing import Any

import pytest

from hypspec.api import Spec
from hypspec.categories.tlb import generate as tlb
from hypspec.categories.tlb.watched import KEYS, WHOLE, Read, WatchedMap

RANDOM = 60


def _records(explorer: tlb.Explorer, seed: int) -> list[dict[str, Any]]:
    """The catalogue's records and ``RANDOM`` random ones, as `hypspec vectors tlb` makes them."""
    made = [tlb.make_vector(explorer, s.name, "scenario", s.steps, s.flags, s.description)[0]
            for s in tlb.scenarios()]
    rng = random.Random(seed)
    for number in range(RANDOM):
        steps = tlb.random_steps(rng)
        made.append(tlb.make_vector(explorer, f"r{number}", "random", steps, tlb.random_flags(steps), "")[0])
    return made


def _counting_runs(explorer: tlb.Explorer) -> list[int]:
    """A counter of the operations ``explorer`` runs on the spec."""
    count = [0]
    run = explorer._run

    def counted(*args: Any) -> Any:
        count[0] += 1
        return run(*args)

    explorer._run = counted  # type: ignore[method-assign]
    return count


def test_remembering_and_forgetting_change_no_record(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outcomes and paths, vector by vector, as when every operation runs on the spec; with
    bounds so small that the explorer forgets between most vectors."""
    every = tlb.Explorer(spec, 11, remember=False)
    every_runs = _counting_runs(every)
    expected = _records(every, 11)
    monkeypatch.setattr(tlb, "MAX_DONE", 300)
    monkeypatch.setattr(tlb, "MAX_KEPT", 40)
    remembering = tlb.Explorer(spec, 11)
    remembering_runs = _counting_runs(remembering)
    forgets = [0]
    forget = remembering._forget

    def counted_forget() -> None:
        forgets[0] += 1
        forget()

    remembering._forget = counted_forget  # type: ignore[method-assign]
    assert _records(remembering, 11) == expected
    assert forgets[0] >= 5
    assert remembering_runs[0] * 3 < every_runs[0]


def test_a_watched_map_logs_each_read_in_order() -> None:
    log: list[Read] = []
    table = WatchedMap({1: 10, 2: 0}, 0, 7, frozenset({1, 2}), log)
    other = WatchedMap({}, 1, 3, frozenset(), log)
    assert table.get(1, 0) == 10 and other.get(5, 0) == 0
    table[3] = 30
    assert table.get(3, 0) == 30  # its own write: not a read of the state
    assert 2 in table and list(table) == [1, 2, 3]  # the keys: logged once
    assert table.writes() == ((3, 30),)
    assert log == [(0, 1, 0, 10), (1, 5, 0, 0), (0, KEYS, None, frozenset({1, 2}))]
    assert table.items() and table.get(9, 0) == 0  # after the whole map, nothing more to log
    assert log[-1] == (0, WHOLE, None, 7)


def test_a_watched_copy_logs_into_the_same_log_and_writes_its_own() -> None:
    log: list[Read] = []
    table = WatchedMap({1: 10}, 0, 0, frozenset({1}), log)
    table[2] = 20
    copied = table.fork()
    copied[4] = 40
    assert copied.get(2, 0) == 20 and copied.get(1, 0) == 10
    assert log == [(0, 1, 0, 10)]  # entry 2 was the original's write; the copy read no key set
    assert table.writes() == ((2, 20),) and 4 not in dict(dict.items(table))
    with pytest.raises(TypeError, match="only by writing an entry"):
        table.pop(1)


def test_an_operation_that_reads_differently_from_the_same_base_is_refused(spec: Spec) -> None:
    """What would happen if an operation depended on something it does not read through a watched
    map (a hidden dependency): the remembered tree no longer fits, and the explorer says so."""
    explorer = tlb.Explorer(spec)
    op = explorer._op(("fill", tlb.ipa(0), None))
    effect = (0, ((), ()), None, None, frozenset())
    explorer._remember(0, op, [(tlb.MEMORY, 1, 0, 5)], effect)
    with pytest.raises(AssertionError, match="read differently"):
        explorer._remember(0, op, [(tlb.MEMORY, 1, 0, 5), (tlb.MEMORY, 2, 0, 0)], effect)


def test_an_operation_that_reads_less_from_the_same_base_is_refused(spec: Spec) -> None:
    explorer = tlb.Explorer(spec)
    op = explorer._op(("fill", tlb.ipa(0), None))
    effect = (0, ((), ()), None, None, frozenset())
    explorer._remember(0, op, [(tlb.MEMORY, 1, 0, 5), (tlb.MEMORY, 2, 0, 0)], effect)
    with pytest.raises(AssertionError, match="read differently"):
        explorer._remember(0, op, [(tlb.MEMORY, 1, 0, 5)], effect)
