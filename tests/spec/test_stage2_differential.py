"""The concrete and symbolic semantics agree on stage 2 (design: "Two semantics from one tree").

For random worlds, the Z3 terms of a spec function, instantiated with the same
inputs, the same global state and the same UNKNOWN choices, must equal what
the compiled Python computed: every output field, every register written and
the whole of memory afterwards.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hypspec.api import Spec
from tests.helpers.agreement import assert_agree
from tests.strategies import GUEST_MMU_OFF, stage2_noise_worlds, stage2_worlds

EXAMPLES = 300


def _state(spec: Spec, world, seed: int):
    return spec.state(oracle_seed=seed, VTCR=world.vtcr, VTTBR=world.vttbr, HCR={"VM": 1},
                      PhysMem={a >> 3: w for a, w in world.memory.items()})


def _agree(spec: Spec, name: str, args: list, world, seed: int) -> None:
    assert_agree(spec, name, args, lambda: _state(spec, world, seed))


def _translate_args(world) -> list:
    return [world.ipa, 1 if world.access == "fetch" else 0, world.access == "write"]


@settings(max_examples=EXAMPLES)
@given(world=stage2_worlds(), seed=st.integers(0, 3))
def test_second_stage_translate_agrees(spec: Spec, world, seed: int) -> None:
    _agree(spec, "AArch32.SecondStageTranslate", _translate_args(world), world, seed)


@settings(max_examples=EXAMPLES)
@given(world=stage2_noise_worlds(), seed=st.integers(0, 3))
def test_second_stage_translate_agrees_on_malformed_tables(spec: Spec, world, seed: int) -> None:
    _agree(spec, "AArch32.SecondStageTranslate", _translate_args(world), world, seed)


@settings(max_examples=EXAMPLES)
@given(world=stage2_worlds(GUEST_MMU_OFF), seed=st.integers(0, 3))
def test_guest_access_and_syndrome_agree(spec: Spec, world, seed: int) -> None:
    args = [world.ipa, 1 if world.access == "fetch" else 0, world.access == "write",
            world.size, world.signed, world.rt, world.value]
    _agree(spec, "Model.Stage2GuestAccess", args, world, seed)
