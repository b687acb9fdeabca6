"""`make bench`: the performance figures of design.md, measured in one run.

Ratios are taken within the run (the compiled spec against a hand-written
walker on the same worlds, alternating), so they hold when the machine's
speed drifts; absolute rates are medians over several rounds.
"""

from __future__ import annotations

import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.handwalk import walk
from hypspec.api import MODEL_DIR, SPEC_DIR, Spec, proof_tree
from hypspec.arguments import DEFAULT_PES
from hypspec.categories.gic import generate as gic
from hypspec.categories.stage2 import generate as stage2
from hypspec.categories.stage2.stimulus import random_world
from hypspec.categories.timers import generate as timers
from hypspec.categories.tlb import generate as tlb
from hypspec.conformance.conform import conform
from hypspec.model.explore import explore
from hypspec.model.induction import prove_model
from hypspec.model.program import load_model
from hypspec.model.scenarios import read_scenarios
from hypspec.proof.prover import prove
from hypspec.vectors.generated import Generated, VectorList
from hypspec.vectors.store import FORMAT, write_vectors

WORLDS = 5000
ROUNDS = 7


def _timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def _unknown_attributes(memory: dict[int, int]) -> bool:
    """A reserved MemAttr encoding: the spec's oracle and the walker may choose differently."""
    return any((w >> 2) & 0xF in (0b0010, 0b0011) or (w >> 2) & 3 == 0 for w in memory.values())


def bench_walks() -> None:
    spec = Spec.load(SPEC_DIR)
    translate = spec.compiled.function("AArch32.SecondStageTranslate")
    worlds = [random_world(random.Random(seed)) for seed in range(WORLDS)]
    cases = []
    for world in worlds:
        state = spec.state(VTCR=world.vtcr, VTTBR=world.vttbr,
                           PhysMem=dict(world.memory))
        fetch, write = world.access == "fetch", world.access == "write"
        cases.append((state, world, (world.ipa, int(fetch), write), (fetch, write)))
        fault, pa, attrs = translate(state, world.ipa, int(fetch), write)
        hand = walk(world.vtcr, world.vttbr, state.PhysMem, world.ipa, fetch, write)
        same = (fault[0], fault[1]) == hand[:2] and (fault[0] in (1,) or (pa, attrs) == hand[2:])
        if not same and not _unknown_attributes(world.memory):
            raise SystemExit(f"the hand walker disagrees with the spec on world {world}")

    def run_spec() -> None:
        for state, _, args, _ in cases:
            translate(state, *args)

    def run_hand() -> None:
        for state, world, _, (fetch, write) in cases:
            walk(world.vtcr, world.vttbr, state.PhysMem, world.ipa, fetch, write)

    spec_times, hand_times, ratios = [], [], []
    for _ in range(ROUNDS):
        s, h = _timed(run_spec), _timed(run_hand)
        spec_times.append(s)
        hand_times.append(h)
        ratios.append(s / h)
    rate = WORLDS / statistics.median(spec_times)
    hand_rate = WORLDS / statistics.median(hand_times)
    print("stage 2 walks (AArch32.SecondStageTranslate, compiled spec, one core)")
    print(f"  spec          {rate:12,.0f} walks/s   (goal >= 50,000)")
    print(f"  hand-written  {hand_rate:12,.0f} walks/s")
    print(f"  ratio spec/hand, median of {ROUNDS} paired rounds: {statistics.median(ratios):.2f}x"
          f"   (min {min(ratios):.2f}, max {max(ratios):.2f}; goal <= 2x)")


#: `conform` up to its first vector: the command line, the harness and the spec, loaded and
#: compiled as `conform` loads it (reading the vectors and running QEMU are the work itself).
CONFORM_READY = ("from hypspec.cli import build_parser; build_parser(); import hypspec.conformance.conform; "
                 "from hypspec.api import SPEC_DIR, Spec; Spec.load(SPEC_DIR).compiled")


def bench_startup() -> None:
    """Short commands in fresh processes, as a user types them: once to fill the on-disk cache of
    the loaded and compiled spec, then warm (the median of several runs)."""
    commands = {
        "hypspec run AArch32.S2LevelShift 1": [str(Path(sys.executable).with_name("hypspec")), "run",
                                               "AArch32.S2LevelShift", "1"],
        "hypspec conform, ready for its first vector": [sys.executable, "-c", CONFORM_READY],
    }
    print("start-up (fresh processes; goal: warm under 0.3 s)")
    for label, command in commands.items():
        with tempfile.TemporaryDirectory() as where:
            environment = {**os.environ, "HYPSPEC_CACHE_DIR": where}

            def once(command: list[str] = command, environment: dict[str, str] = environment) -> None:
                subprocess.run(command, check=True, capture_output=True, env=environment)

            cold = _timed(once)
            warm = statistics.median(_timed(once) for _ in range(ROUNDS))
        print(f"  {label}: cold cache {cold:.2f} s, warm cache {warm:.2f} s")


def bench_proofs() -> None:
    print("proofs (build = load, check and evaluate to Z3; prove = solver)")
    start = time.perf_counter()
    spec = Spec.load(*proof_tree())
    load_s = time.perf_counter() - start
    print(f"  load and check spec + proofs: {load_s:.2f} s")
    width = max(len(name) for name in spec.program.properties)
    total = 0.0
    for name in spec.program.properties:
        start = time.perf_counter()
        spec.symbolic(name)
        build_s = time.perf_counter() - start
        result = prove(spec, name)
        total += build_s + result.seconds
        print(f"  {name:<{width}}  build {build_s:6.3f} s   prove {result.seconds:6.3f} s   {result.status}")
    print(f"  all {len(spec.program.properties)} properties: {total:.1f} s on one core"
          "   (goal: all under 60 s, none over 20 s)")


def bench_model() -> None:
    """The KVM/ARM model: its obligations (wall time on two processes, and the slowest), and the
    stateful test's speed with invariant checks, as the number of PEs grows (the proofs do not
    depend on it: an obligation has at most two PE banks, see docs/models.md)."""
    model = load_model()
    start = time.perf_counter()
    invariants, safety = prove_model(model, timeout_s=60.0, jobs=2)
    wall = time.perf_counter() - start
    obligations = [o for r in invariants + safety for o in r.obligations]
    slowest = max(obligations, key=lambda o: o.seconds)
    proved = sum(o.status == "proved" for o in obligations)
    print("KVM/ARM model (proofs by induction; noninterference over pairs of runs)")
    cpu = sum(o.seconds for o in obligations)
    over = sum(o.seconds > 10 for o in obligations)
    print(f"  {len(obligations)} obligations ({proved} proved) in {wall:.1f} s on 2 processes, "
          f"{cpu:.0f} s of CPU   (goal: under 20 s, none over 10 s)")
    print(f"  slowest: {slowest.name}, {slowest.seconds:.1f} s; {over} over 10 s")
    for result in sorted(invariants, key=lambda r: -r.seconds):  # where the time goes, most first
        print(f"    {result.name:<28} {result.status:<8} {result.seconds:6.1f} s "
              f"({len(result.obligations)} obligations)")
    scenarios = read_scenarios(model, MODEL_DIR)
    for pes in (2, 4, 8):
        for leaks in (False, True):
            campaign, finding = explore(model, seed=1, examples=40, steps=100, pes=pes, shrink=False,
                                        scenarios=scenarios, check_leaks=leaks)
            rate = campaign.steps / campaign.seconds
            checked = "every invariant" + (" and, in a second run, every observation" if leaks else "")
            # The goal is the stateful test's, which runs on DEFAULT_PES; more show how the rate scales.
            goal = "   (the stateful test's configuration; goal >= 1,000)" if pes == DEFAULT_PES else ""
            print(f"  stateful exploration, {pes} PEs: {rate:,.0f} transitions/s with {checked} checked "
                  f"after each ({campaign.steps} steps; {'no violation' if finding is None else 'VIOLATION'})"
                  f"{goal}")


def bench_vectors(count: int = 5000) -> None:
    spec = Spec.load(SPEC_DIR)
    spec.compiled, spec.traced  # noqa: B018 - build both once, outside the timings
    start = time.perf_counter()
    generated = stage2.generate(spec, seed=1, random_count=0, out=VectorList())
    witness_s = time.perf_counter() - start
    rng = random.Random(1)
    start = time.perf_counter()
    vectors = [stage2.make_vector(spec, f"stage2-r{n:05d}", "random", random_world(rng, stage2.HARNESS), 1)[0]
               for n in range(count)]
    make_s = time.perf_counter() - start
    meta = {"format": FORMAT, "category": "stage2", "spec_hash": spec.digest, "generator": "bench",
            "seed": 1, "count": count,
            "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}}}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "stage2.jsonl"
        start = time.perf_counter()
        write_vectors(path, meta, vectors)
        write_s = time.perf_counter() - start
        start = time.perf_counter()
        report = conform([path])
        conform_s = time.perf_counter() - start
    rate = count / (make_s + write_s)
    print("vectors (stage2)")
    print(f"  witnesses: {generated.out.count} feasible paths searched with Z3 in {witness_s:.1f} s")
    print(f"  random vectors: {rate:,.0f} vectors/s generated and written   (goal >= 5,000)")
    print(f"  QEMU conformance: {count / conform_s:,.0f} vectors/s end to end "
          f"(read, lower, assemble, run, compare)   (goal >= 1,000); "
          f"{report.exit_code=}")


def _script_meta(spec: Spec, category: str, generated: Generated) -> dict[str, object]:
    meta: dict[str, object] = {"format": FORMAT, "category": category, "spec_hash": spec.digest,
                               "generator": "bench", "seed": 1, "count": generated.out.count,
                               "coverage": {"feasible_paths": 0, "paths_hit": 0, "by_function": {}}}
    meta.update(generated.meta)  # the prelude (and the timers' count window)
    return meta


@dataclass(frozen=True)
class ScriptCategory:
    """A script vector category as `make bench` measures it: its generator (the `generate` of its
    module) and, if it has one, one-off work of its own to time apart before it (which returns
    what to report)."""

    name: str
    generate: Callable[..., Generated]
    one_off: Callable[[Spec], str] | None = None


def _template_lemmas(spec: Spec) -> str:
    """The timers' template lemmas, proved once per run (the timers' generator then reuses them)."""
    start = time.perf_counter()
    lemmas = timers.template_lemmas(spec)
    return f"; template lemmas: {len(lemmas)} proved in {time.perf_counter() - start:.1f} s"


#: The script categories `make bench` measures, in order: a new category is one entry.
SCRIPT_CATEGORIES = (
    ScriptCategory("gic", gic.generate),
    ScriptCategory("timers", timers.generate, _template_lemmas),
    ScriptCategory("tlb", tlb.generate),
)


def bench_script_vectors(count: int = 5000) -> None:
    """The script categories (:data:`SCRIPT_CATEGORIES`): random vectors generated (and written)
    per second, the one-off work of a run timed apart (the gic witness search and scenarios; the
    timers' feasible paths, catalogue and template lemmas; the tlb path search and catalogue), the
    file's size, and `hypspec conform` on the file end to end."""
    spec = Spec.load(SPEC_DIR)
    spec.compiled, spec.traced  # noqa: B018 - build both once, outside the timings
    for category in SCRIPT_CATEGORIES:
        _bench_script_category(spec, category, count)


def _bench_script_category(spec: Spec, category: ScriptCategory, count: int) -> None:
    extra = category.one_off(spec) if category.one_off is not None else ""
    generate = category.generate
    generate(spec, 1, 20, VectorList())  # warm the caches a run builds once (quiesced states, path keys)
    start = time.perf_counter()
    base = generate(spec, 1, 0, VectorList())
    fixed_s = time.perf_counter() - start
    start = time.perf_counter()
    made = VectorList()
    generated = generate(spec, 1, count, made)
    random_s = time.perf_counter() - start - fixed_s
    total = made.count
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{category.name}.jsonl"
        start = time.perf_counter()
        write_vectors(path, _script_meta(spec, category.name, generated), made.vectors)
        write_s = time.perf_counter() - start
        size = path.stat().st_size
        start = time.perf_counter()
        report = conform([path])
        conform_s = time.perf_counter() - start
    written_s = random_s + write_s * count / total  # the random vectors' share of the write
    print(f"vectors ({category.name}, {count} random, one core)")
    print(f"  one-off: {base.out.count} witness/scenario/catalogue vectors in {fixed_s:.1f} s{extra}")
    print(f"  random vectors: {count / random_s:,.0f} vectors/s generated, {count / written_s:,.0f} "
          f"vectors/s generated and written   (goal >= 5,000)")
    print(f"  file: {total} vectors, {size / 1e6:.1f} MB ({size / total / 1e3:.1f} kB a vector); "
          f"validated and written at {total / write_s:,.0f} vectors/s")
    print(f"  QEMU conformance: {total / conform_s:,.0f} vectors/s end to end "
          f"(read, lower, assemble, run, compare: {conform_s:.1f} s); {report.exit_code=}")


def main() -> None:
    bench_startup()
    bench_walks()
    bench_proofs()
    bench_model()
    bench_vectors()
    bench_script_vectors()


if __name__ == "__main__":
    main()
