"""Steps of the KVM/ARM model run one at a time by the model's tests, each checked as it goes."""

from __future__ import annotations

from hypspec.model.machine import Machine


def step(machine: Machine, name: str, *args: int | bool) -> None:
    """Run transition `name`, which must be able to act, and check every invariant after it."""
    assert machine.enabled(name, *args), name
    machine.run(name, *args)
    assert machine.violations() == [], name


def context_word(machine: Machine, word: int) -> int:
    """Word `word` of vCPU 0's saved context (its words are keyed 0 : word)."""
    return machine.state.KVM_VcpuCtx[word]
