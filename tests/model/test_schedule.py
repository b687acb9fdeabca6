"""The order processes take a model's transitions in (`hypspec.model.schedule`): heaviest first, by
the times the last run stored, without changing what is proved or the order it is reported in."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypspec.model import induction, schedule
from hypspec.model.schedule import heaviest_first, remember
from tests.model.test_induction import BOUNDED, GUARDED, MIRROR, STEP_TEXT, model_of


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPSPEC_CACHE_DIR", str(tmp_path / "cache"))


def test_with_nothing_stored_the_order_is_the_models() -> None:
    assert heaviest_first(["A", "B", "C"]) == ["A", "B", "C"]


def test_the_heaviest_go_first_and_those_not_timed_before_them() -> None:
    remember({"A": 1.0, "B": 30.0, "C": 4.0})
    assert heaviest_first(["A", "B", "C"]) == ["B", "C", "A"]
    remember({"A": 1.0, "B": 30.0})
    assert heaviest_first(["A", "B"]) == ["B", "A"]
    # a transition with no time (new, or renamed) may be the heaviest: it goes first
    remember({"A": 1.0, "B": 30.0, "C": 4.0})
    assert heaviest_first(["A", "B", "C", "D"])[0] == "D"


def test_a_damaged_entry_is_the_models_order(tmp_path: Path) -> None:
    remember({"A": 1.0, "B": 30.0})
    for entry in (tmp_path / "cache").iterdir():
        entry.write_bytes(b"{not json")
    assert heaviest_first(["A", "B"]) == ["A", "B"]


def test_without_a_cache_the_order_is_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HYPSPEC_CACHE_DIR", "off")
    remember({"A": 1.0, "B": 30.0})
    assert heaviest_first(["A", "B"]) == ["A", "B"]


def test_proving_in_another_order_reports_in_the_models(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes take the transitions by their stored times; the results are those of the
    model's order, and the run stores each transition's time for the next."""
    model = model_of(tmp_path, STEP_TEXT, GUARDED, BOUNDED, MIRROR)
    names = [t.name for t in model.transitions]
    assert names == ["Tick", "Wrap"]
    remember({name: float(rank) for rank, name in enumerate(names)})  # the last is the heaviest
    taken: list[list[str]] = []

    def ordered(given: list[str]) -> list[str]:
        taken.append(heaviest_first(given))
        return taken[-1]

    monkeypatch.setattr(induction, "heaviest_first", ordered)
    invariants, safety = induction.prove_model(model, jobs=2)
    assert taken == [names[::-1]]
    assert [r.name for r in invariants] == ["Bounded", "Mirror"]
    assert all(r.ok for r in [*invariants, *safety])
    for result in invariants:
        assert [o.obligation.transition for o in result.obligations] == [None, *names]
    assert [r.name for r in safety] == [f"{name} keeps its asserts" for name in names]
    stored = schedule._stored(names)  # what the run took replaces what the test planted
    assert set(stored) == set(names)
    assert all(0 < stored[n] != planted for n, planted in zip(names, (0.0, 1.0), strict=True))
