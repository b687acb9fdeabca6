"""`make bench`: the performance figures of design.md, measured in one run.

Ratios are taken within the run (the compiled spec against a hand-written
walker on the same worlds, alternating), so they hold when the machine's
speed drifts; absolute rates are medians over several rounds.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

from benchmarks.handwalk import walk
from hypspec.api import PROOFS_DIR, SPEC_DIR, Spec
from hypspec.proof.prover import prove
from hypspec.vectors.stage2_stimulus import random_world

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
                           PhysMem={a >> 3: w for a, w in world.memory.items()})
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


def bench_proofs() -> None:
    print("proofs (build = load, check and evaluate to Z3; prove = solver)")
    start = time.perf_counter()
    spec = Spec.load(SPEC_DIR, PROOFS_DIR)
    load_s = time.perf_counter() - start
    print(f"  load and check spec + proofs: {load_s:.2f} s")
    for name in spec.program.properties:
        start = time.perf_counter()
        spec.symbolic(name)
        build_s = time.perf_counter() - start
        result = prove(spec, name)
        print(f"  {name:<28} build {build_s:6.3f} s   prove {result.seconds:6.3f} s   {result.status}")


def main() -> None:
    bench_walks()
    bench_proofs()


if __name__ == "__main__":
    main()
