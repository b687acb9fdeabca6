"""Timer vectors (`hypspec vectors timers`): schema, determinism, coverage, the catalogue's expected
values, agreement with the spec oracle, and the generator's refusals.

The file is generated twice, in two fresh processes side by side, as a user runs it. The worked
examples derive each expectation by hand from ARM DDI 0406C.d chapter B8 and §B4.1:
CNTVCT = count - CNTVOFF; a TVAL write sets CVAL = counter + SignExtend(value); a TVAL read returns
(CVAL - counter)<31:0>; CTL reads ENABLE (bit 0), IMASK (bit 1) and ISTATUS (bit 2) = ENABLE and
counter >= CVAL; the virtual timer's counter is the virtual count; a timer's PPI (virtual 27,
physical 30, Hyp 26 on the virt board) is pending while its output, ISTATUS and not IMASK, is high.
A counter-relative expectation (sign s, value k, width w) means v = s * count + k mod 2^w.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hypspec.api import Spec
from hypspec.categories.script import steps as script
from hypspec.categories.script.steps import Step, steps_from_json
from hypspec.categories.timers import generate as timers
from hypspec.vectors.store import read_vectors
from tests.helpers.generated import generated_twice

SEED, RANDOM = 5, 150
U64 = (1 << 64) - 1
ISPENDR0 = 0x0800_0200
VIRTUAL, PHYSICAL, HYP = timers.TIMERS


def timer_vector_files() -> tuple[Path, Path]:
    """The same `hypspec vectors timers` run twice, in two fresh processes side by side."""
    return generated_twice("timers", SEED, RANDOM)


@pytest.fixture(scope="module")
def vector_file() -> Path:
    return timer_vector_files()[0]


def body(vector: dict[str, Any]) -> list[Step]:
    """The vector's own steps (they run after the file's prelude, the quiesce steps)."""
    return steps_from_json(vector["steps"])


def reads(vector: dict[str, Any]) -> list[Step]:
    return [s for s in body(vector) if s.op == "read"]


# ---- the file -------------------------------------------------------------------------------


def test_the_file_validates_and_records_the_count_window(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    meta = read_vectors(vector_file).meta
    assert meta["category"] == "timers" and meta["seed"] == SEED and meta["count"] == len(vectors)
    # The assumed count window: in every vector's description, and in the meta once the schema
    # declares `count_window` (hypspec/vectors/schema.json, the harness's file).
    assert all(v["description"] == timers.window_note() for v in vectors)
    assert "[0x0, 0x1000000000000)" in timers.window_note()
    if timers.window_meta():
        assert meta["count_window"] == {"lo": "0x0", "hi": hex(1 << 48)}
    catalogue = sum(len(timers.CATALOGUE[s]) for _, s, _ in timers.scenario_modes())
    assert len(vectors) == catalogue + RANDOM
    assert all(v["category"] == "timers" for v in vectors)


def test_same_seed_gives_the_same_bytes(spec: Spec) -> None:
    first, second = timer_vector_files()
    assert first.read_bytes() == second.read_bytes()


def test_the_prelude_is_the_quiesce_steps_stored_once(
    vector_file: Path, vectors: list[dict[str, Any]]
) -> None:
    assert read_vectors(vector_file).meta["prelude"] == script.steps_to_json(script.quiesce_steps())
    assert not any(script.quiesce_prefix(steps_from_json(v["steps"])) for v in vectors)


def test_every_scenario_and_mode_is_covered(vector_file: Path, vectors: list[dict[str, Any]]) -> None:
    seen = {(v["kind"], f) for v in vectors for f in v["flags"] if f.startswith("MODE_")}
    wanted = {(f"{t.name}-{s}", f"MODE_{m.upper()}") for t, s, m in timers.scenario_modes()}
    assert seen == wanted
    coverage = read_vectors(vector_file).meta["coverage"]
    hit, feasible = coverage["by_function"][timers.SCENARIO_COVERAGE]
    assert hit == feasible == len(wanted)


def test_every_feasible_timer_path_is_hit_or_explained(vector_file: Path) -> None:
    coverage = read_vectors(vector_file).meta["coverage"]
    unexplained = coverage["feasible_paths"] - coverage["paths_hit"] - len(coverage.get("not_runnable", []))
    assert unexplained == 0
    # The one path no vector can take: Timer.Write of a read-only count (UNDEFINED in spec/04).
    assert [entry["path"].split("#")[0] for entry in coverage["not_runnable"]] == ["Timer.Write"]


# ---- agreement with the oracle ----------------------------------------------------------------


def _agrees(value: int, expect: script.Expect, count: int) -> bool:
    if expect.count_sign == 0:
        return value & expect.mask == expect.value & expect.mask
    return value == (expect.count_sign * count + expect.value) % (1 << expect.width)


@pytest.mark.parametrize("count", [0, 0x1234_5678, (1 << 48) - 1])
def test_every_expectation_holds_at_counts_in_the_window(
    spec: Spec, vectors: list[dict[str, Any]], count: int
) -> None:
    for vector in vectors:
        steps = steps_from_json(vector["steps"])
        results = script.run_script(spec, steps, count)
        for step, value in zip(steps, results, strict=True):
            if step.expect is not None:
                assert value is not None and _agrees(value, step.expect, count), (vector["id"], step)


# ---- the catalogue, by hand ---------------------------------------------------------------------


def _expect(step: Step) -> tuple[int, int, int, int]:
    assert step.expect is not None
    e = step.expect
    return e.value, e.mask, e.count_sign, e.width


def test_cntvct_is_the_count_minus_cntvoff(by_id: dict[str, dict[str, Any]]) -> None:
    # CNTVOFF = 0x1000: CNTVCT = count - 0x1000 = count + (2^64 - 0x1000), 64 bits.
    cntvct, cntvoff = reads(by_id["timers-c-virtual-counter-svc-2"])[2:]
    assert (cntvct.el, cntvct.sysreg) == ("svc", "CNTVCT")
    assert _expect(cntvct) == (0xFFFF_FFFF_FFFF_F000, U64, 1, 64)
    assert _expect(cntvoff) == (0x1000, U64, 0, 64)
    # CNTVOFF = 2^64 - 0x1000 ("negative"): CNTVCT = count + 0x1000.
    assert _expect(reads(by_id["timers-c-virtual-counter-usr-3"])[2]) == (0x1000, U64, 1, 64)


def test_cntpct_ignores_cntvoff(by_id: dict[str, dict[str, Any]]) -> None:
    # CNTPCT = count, whatever CNTVOFF (0x1000 here) holds.
    assert _expect(reads(by_id["timers-c-physical-counter-usr-2"])[2]) == (0, U64, 1, 64)


def test_tval_write_then_cval(by_id: dict[str, dict[str, Any]]) -> None:
    # Virtual, CNTVOFF = 0x100, TVAL = 0xFFFF_F000 (-0x1000): CVAL = count - 0x100 - 0x1000
    # = count + (2^64 - 0x1100).
    expected = (0xFFFF_FFFF_FFFF_EF00, U64, 1, 64)
    assert _expect(reads(by_id["timers-c-virtual-tval-write-svc-2"])[2]) == expected
    # Physical, TVAL = 0x1000: CVAL = count + 0x1000 (CNTVOFF plays no part).
    assert _expect(reads(by_id["timers-c-physical-tval-write-svc-1"])[2]) == (0x1000, U64, 1, 64)
    # Hyp, TVAL = 0x7FFF_FFFF, the largest positive: CVAL = count + 0x7FFF_FFFF.
    assert _expect(reads(by_id["timers-c-hyp-tval-write-hyp-3"])[2]) == (0x7FFF_FFFF, U64, 1, 64)


def test_cval_write_then_tval(by_id: dict[str, dict[str, Any]]) -> None:
    # Virtual, CNTVOFF = 0x10, CVAL = 0x100: TVAL = 0x100 - (count - 0x10) = -count + 0x110, 32 bits.
    tval, cval = reads(by_id["timers-c-virtual-cval-write-usr-2"])[2:]
    assert (tval.el, tval.sysreg) == ("usr", "CNTV_TVAL")
    assert _expect(tval) == (0x110, 0xFFFF_FFFF, -1, 32)
    assert _expect(cval) == (0x100, U64, 0, 64)
    # Physical, CVAL = 2^50: TVAL = 2^50 - count = -count + 0 in 32 bits.
    assert _expect(reads(by_id["timers-c-physical-cval-write-svc-1"])[2]) == (0, 0xFFFF_FFFF, -1, 32)


def test_istatus(by_id: dict[str, dict[str, Any]]) -> None:
    # CVAL = 0: every count meets it. ENABLE: CTL = 0b101; ENABLE|IMASK: 0b111; disabled: 0.
    # CVAL = 2^63 is never reached in the window: CTL = ENABLE = 1. After the timer is disabled
    # (the scenario's last write), CTL reads 0.
    for timer, mode in (("virtual", "svc"), ("physical", "usr"), ("hyp", "hyp")):
        vectors = [by_id[f"timers-c-{timer}-istatus-{mode}-{n}"] for n in (1, 2, 3, 4)]
        got = [[_expect(s)[0] for s in reads(v)[2:]] for v in vectors]
        assert got == [[5, 0], [1, 0], [7, 0], [0, 0]], timer


def test_ppi_pending_follows_the_timer_output(by_id: dict[str, dict[str, Any]]) -> None:
    # GICD_ISPENDR0 bit = the timer's INTID, level-sensitive: pending while the output
    # (ENABLE, condition met, not IMASK) is high; low again once the timer is disabled.
    for timer, mode in ((VIRTUAL, "svc"), (PHYSICAL, "usr"), (HYP, "hyp")):
        bit = 1 << timer.ppi
        # 1: enabled, CVAL 0 (met); 2: masked; 3: CVAL 2^63 (not met); 4: disabled; 5: as 1 with
        # CNTVOFF 0x5000 (the virtual count wraps below 0x5000 but stays >= 0). CTL as in istatus.
        cases = ((1, True, 5), (2, False, 7), (3, False, 1), (4, False, 0), (5, True, 5))
        for number, pending, ctl_value in cases:
            first, ctl, last = reads(by_id[f"timers-c-{timer.name}-ppi-{mode}-{number}"])[2:]
            assert (first.target, first.address, first.el) == ("mmio", ISPENDR0, "hyp")
            assert _expect(first) == (bit if pending else 0, bit, 0, 32), (timer.name, number)
            assert _expect(ctl)[0] == ctl_value
            assert _expect(last) == (0, bit, 0, 32)


# ---- refusals -----------------------------------------------------------------------------------


def _plain(steps: list[Step]) -> list[Step]:
    """A vector's own steps (the quiesce steps run before them)."""
    return steps


def test_a_trapping_guest_step_is_refused(spec: Spec) -> None:
    # User mode reads CNTV_CTL with CNTKCTL.PL0VTEN clear: UNDEFINED (spec/04).
    steps = _plain([script.sysreg_write("CNTKCTL", 0), script.sysreg_read("CNTV_CTL", "usr")])
    with pytest.raises(timers.ScriptRefused, match="TrapOutcome_Undefined"):
        timers.concrete_pass(spec, steps, 0)
    # SVC reads CNTP_CTL with CNTHCTL.PL1PCEN clear: a Hyp trap.
    steps = _plain([script.sysreg_write("CNTHCTL", 1), script.sysreg_read("CNTP_CTL", "svc")])
    with pytest.raises(timers.ScriptRefused, match="TrapOutcome_HypTrap"):
        timers.concrete_pass(spec, steps, 0)


def test_a_read_depending_on_two_counts_is_refused(spec: Spec) -> None:
    # TVAL written at count c1 and read at c2 returns value + c1 - c2: constant when every step
    # runs at one count (the single-count oracle says 0x500), not when the counts differ.
    steps = _plain([
        script.sysreg_write("CNTV_CTL", 3, "svc"),
        script.sysreg_write("CNTV_TVAL", 0x500, "svc"),
        script.sysreg_read("CNTV_TVAL", "svc"),
    ])
    with pytest.raises(timers.ScriptRefused, match="not exact"):
        timers.expected_steps(spec, VIRTUAL, steps)


def test_an_unstable_status_is_refused(spec: Spec) -> None:
    # CVAL = 2^40 lies inside the window: ISTATUS depends on whether the count has reached it.
    values = timers.Values(cval=1 << 40, ctl=1)
    steps = timers.build_steps(PHYSICAL, "istatus", "svc", values)
    with pytest.raises(timers.ScriptRefused):
        timers.expected_steps(spec, PHYSICAL, steps)


def test_stable_compare_values_are_stable() -> None:
    # The Python choice agrees with the window: with CNTVOFF = 2^48 the virtual count spans
    # [2^64 - 2^48, 2^64 - 1], so "met" needs CVAL <= 2^64 - 2^48 and "not met" is impossible.
    import random

    rng = random.Random(0)
    for _ in range(50):
        cval = timers.stable_cval(rng, VIRTUAL, 1 << 48, True)
        assert cval is not None and cval <= U64 - (1 << 48) + 1
    assert timers.stable_cval(rng, VIRTUAL, 1 << 48, False) is None
    # Physical: the count spans [0, 2^48 - 1]; "not met" needs CVAL >= 2^48, "met" only 0.
    assert all(timers.stable_cval(rng, PHYSICAL, 0, False) >= 1 << 48 for _ in range(50))  # type: ignore[operator]
    assert timers.stable_cval(rng, PHYSICAL, 0, True) == 0


# ---- the template lemma -------------------------------------------------------------------------


def test_random_values_satisfy_the_construction() -> None:
    # What the lemma assumes is what the generator draws: every drawn value set satisfies it.
    import random

    rng = random.Random(3)
    for _ in range(400):
        timer, scenario, _mode = rng.choice(timers.scenario_modes())
        values = timers.random_values(rng, timer, scenario)
        if values is not None:
            assert timers.construction(timer, scenario, values) is True, (timer.name, scenario, values)
    # An unstable compare value (2^40 lies inside the window) and an undefined CTL bit do not.
    assert timers.construction(PHYSICAL, "istatus", timers.Values(cval=1 << 40)) is False
    assert timers.construction(PHYSICAL, "cval-write", timers.Values(ctl=4)) is False


def test_the_lemma_path_refuses_values_outside_the_construction(spec: Spec) -> None:
    with pytest.raises(timers.ScriptRefused, match="construction"):
        timers.make_vector(spec, "x", "random", PHYSICAL, "istatus", "svc", timers.Values(cval=1 << 40),
                           by_lemma=True)


def test_the_lemma_gives_what_the_per_vector_proof_gives(spec: Spec) -> None:
    """For every template, the catalogue's values and a few drawn ones: the record made by the
    template's lemma is the record made by proving the vector's own expectations."""
    import random

    rng = random.Random(11)
    for timer, scenario, mode in timers.scenario_modes():
        chosen = list(timers.CATALOGUE[scenario])
        while len(chosen) < len(timers.CATALOGUE[scenario]) + 2:
            values = timers.random_values(rng, timer, scenario)
            if values is not None:
                chosen.append(values)
        for values in chosen:
            try:
                proved = timers.make_vector(spec, "x", "random", timer, scenario, mode, values)
            except timers.ScriptRefused:
                with pytest.raises(timers.ScriptRefused):
                    timers.make_vector(spec, "x", "random", timer, scenario, mode, values, by_lemma=True)
                continue
            fast = timers.make_vector(spec, "x", "random", timer, scenario, mode, values, by_lemma=True)
            assert fast == proved, (timer.name, scenario, mode, values)


def test_a_template_whose_claim_fails_has_no_lemma(spec: Spec, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lemma is a proof: weaken the hypothesis (any compare value for istatus) and it fails."""
    monkeypatch.setattr(timers, "stable_cases", lambda timer, cntvoff, cval: [cval == cval])
    monkeypatch.setattr(timers, "_LEMMAS", {})
    with pytest.raises(timers.ScriptRefused, match=r"depends on the count|relative"):
        timers.template_lemma(spec, PHYSICAL, "istatus", "svc")
