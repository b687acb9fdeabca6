"""Starting points for random exploration: short sequences of a model's transitions, by name.

Some bugs need a guest to do several particular things in a row before they show: enable its
VFP (CPACR, then FPEXC.EN, whose first write traps to the lazy switch) and then use it; enable
its virtual timer and then exit. A random campaign over twenty-odd transitions almost never
strings those together, so a model directory may name such states in `scenarios.toml`, as the
operations that reach them:

    [[scenario]]
    name = "guest-vfp-enabled"
    about = "a guest that has enabled its VFP"
    steps = ["KVM.BootPE(0)", "KVM.RunVcpu(0, 0)", "KVM.GuestWriteSysReg(0, SysReg_CPACR, 0xffffffff)"]

A run of the stateful test or of `hypspec explore` starts either from the initial state or from
one of them (Hypothesis chooses, and shrinks towards the initial state), with every invariant
checked after every step of the prefix as after any other. The prefix is part of the reported
trace, so a failure still reads as a list of model operations. A step is a transition's name and
its arguments: integers (decimal or 0x), TRUE or FALSE, or an enumeration member by name.

A step may instead be a pair, `["KVM.GuestWriteVFP(0, 3, 0x5555)", "KVM.GuestWriteVFP(0, 3, 0x1234)"]`:
the secret's step as the first run takes it and as the second run of the noninterference check
takes it (`Twin`), the same transition on the same PE with other arguments, so that the secret
holds different values in the two runs from the start.

A step may also be a loop, for states that take many alike steps to reach (hundreds of VMs):

    { for = "i", from = 1, to = 254, steps = ["KVM.CreateVM(0, {i}, 0x{i:x}00, 0)"] }

runs its steps once for each value of `i` from `from` to `to`, with `{i}` replaced by the value
in decimal and `{i:x}` in hexadecimal (no other placeholder). The invariants are checked once the
loop has run, not after each of its steps.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypspec.concrete.runtime import SpecAssertionError
from hypspec.lang.types import Bits, Bool, Enum
from hypspec.model.machine import Machine
from hypspec.model.program import Model, ModelError, Step

SCENARIOS_FILE = "scenarios.toml"
_CALL = re.compile(r"^\s*([A-Za-z_][\w.]*)\s*\((.*)\)\s*$")


@dataclass(frozen=True)
class Scenario:
    name: str
    about: str
    steps: tuple[tuple[Step, tuple[Any, ...]], ...]
    # The second run's arguments for each step (the same as the first's but for the secret's).
    others: tuple[tuple[Any, ...], ...]
    # Whether the invariants are checked after each step: after every step but those inside a
    # loop, which are checked once the loop has run (a loop is hundreds of steps alike).
    checked: tuple[bool, ...]


def read_scenarios(model: Model, model_dir: Path) -> list[Scenario]:
    """The scenarios of `model_dir/scenarios.toml` (none if there is no such file), each checked:
    every step names a transition with arguments of its types, and acts when replayed from the
    initial state (a step whose guard fails would make the scenario a different one)."""
    path = model_dir / SCENARIOS_FILE
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ModelError(f"{path}: {err}") from None
    entries = table.get("scenario", [])
    if not isinstance(entries, list) or set(table) - {"scenario"}:
        raise ModelError(f"{path}: expected only [[scenario]] tables")
    scenarios = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: scenario {number}"
        if not isinstance(entry, dict) or set(entry) != {"name", "about", "steps"}:
            raise ModelError(f"{where}: a scenario has exactly the keys name, about and steps")
        calls = entry["steps"]
        if not isinstance(calls, list) or not all(_is_step(call) or isinstance(call, dict) for call in calls):
            raise ModelError(f"{where}: steps is a list of strings such as \"KVM.BootPE(0)\", of pairs of "
                             "them (the first run's step, the second run's), or of loops over them")
        expanded, checked = [], []
        for call in calls:
            steps_of_call = _expand(where, call)
            expanded += steps_of_call
            checked += [False] * (len(steps_of_call) - 1) + [True]
        pairs = [(one, two) for one, two, _ in expanded]
        places = [(_where(text, path, first), _where(text, path, second))
                  for _, _, (first, second) in expanded]
        steps, others = [], []
        for (one, two), (here, there) in zip(pairs, places, strict=True):
            step, args = _step(model, here, one)
            other, other_args = _step(model, there, two)
            if other.name != step.name or (step.pe_index is not None
                                          and other_args[step.pe_index] != args[step.pe_index]):
                raise ModelError(f"{there}: the second run's step must be {step.name} on the same PE")
            steps.append((step, args))
            others.append(other_args)
        scenario = Scenario(str(entry["name"]), str(entry["about"]), tuple(steps), tuple(others),
                            tuple(checked))
        _replay(model, scenario, [here for here, _ in places])
        scenarios.append(scenario)
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ModelError(f"{path}: two scenarios share a name")
    return scenarios


def pes_needed(scenarios: list[Scenario]) -> int:
    """The number of PEs a machine needs to run every scenario."""
    return max((args[step.pe_index] + 1 for s in scenarios for step, args in s.steps
                if step.pe_index is not None), default=1)


_LOOP_KEYS = {"for", "from", "to", "steps"}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _expand(where: str, call: object) -> list[tuple[str, str, tuple[str, str]]]:
    """A step of a scenario as the steps it stands for: (the first run's call, the second run's,
    and the text each came from, to point at in errors)."""
    if isinstance(call, str):
        return [(call, call, (call, call))]
    if isinstance(call, list):
        return [(call[0], call[1], (call[0], call[1]))]
    assert isinstance(call, dict)
    if set(call) != _LOOP_KEYS:
        raise ModelError(f"{where}: a loop has exactly the keys for, from, to and steps")
    name, first, last, body = call["for"], call["from"], call["to"], call["steps"]
    if name != "i" or not isinstance(first, int) or not isinstance(last, int) or first > last:
        raise ModelError(f"{where}: a loop is {{ for = \"i\", from = M, to = N, steps = [...] }} with M <= N")
    if not isinstance(body, list) or not all(_is_step(step) for step in body):
        raise ModelError(f"{where}: a loop's steps are strings, or pairs of them")
    found = []
    for value in range(first, last + 1):
        for step in body:
            one, two = (step, step) if isinstance(step, str) else step
            found.append((_fill(where, one, value), _fill(where, two, value), (one, two)))
    return found


def _fill(where: str, template: str, value: int) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) == "i":
            return str(value)
        if match.group(1) == "i:x":
            return f"{value:x}"
        raise ModelError(f"{where}: '{{{match.group(1)}}}' in '{template}': a loop's steps may use only "
                         "{i} and {i:x}")
    return _PLACEHOLDER.sub(replace, template)


def _is_step(call: object) -> bool:
    return isinstance(call, str) or (isinstance(call, list) and len(call) == 2
                                     and all(isinstance(c, str) for c in call))


def _where(text: str, path: Path, call: str) -> str:
    """`path:line:col` of a step's text in the file."""
    at = text.find(call)
    if at < 0:
        return str(path)
    line = text.count("\n", 0, at) + 1
    return f"{path}:{line}:{at - (text.rfind(chr(10), 0, at) + 1) + 1}"


def _step(model: Model, where: str, call: str) -> tuple[Step, tuple[Any, ...]]:
    match = _CALL.match(call)
    if match is None:
        raise ModelError(f"{where}: '{call}' is not a step such as KVM.BootPE(0)")
    name, listed = match.group(1), match.group(2)
    names = {t.name for t in model.transitions}
    if name not in names:
        raise ModelError(f"{where}: no transition named '{name}'")
    step = model.transition(name)
    parts = [p.strip() for p in listed.split(",")] if listed.strip() else []
    if len(parts) != len(step.params):
        raise ModelError(f"{where}: {name} takes {len(step.params)} arguments "
                         f"({', '.join(p.name for p in step.params)}), not {len(parts)}")
    return step, tuple(_argument(where, name, param, part)
                       for param, part in zip(step.params, parts, strict=True))


def _argument(where: str, name: str, param: Any, text: str) -> Any:
    ty = param.ty
    what = f"{where}: {name}, argument {param.name}"
    if isinstance(ty, Bool):
        if text not in ("TRUE", "FALSE"):
            raise ModelError(f"{what}: expected TRUE or FALSE, got '{text}'")
        return text == "TRUE"
    if isinstance(ty, Enum):
        if text not in ty.members:
            raise ModelError(f"{what}: '{text}' is not a member of {ty.name}")
        return ty.members.index(text)
    assert isinstance(ty, Bits)
    try:
        value = int(text, 0)
    except ValueError:
        raise ModelError(f"{what}: expected an integer, got '{text}'") from None
    if not 0 <= value < 1 << ty.width:
        raise ModelError(f"{what}: {text} does not fit in {ty.width} bits")
    return value


def _replay(model: Model, scenario: Scenario, places: list[str]) -> None:
    machine = Machine(model, pes_needed([scenario]))
    for (step, args), where in zip(scenario.steps, places, strict=True):
        if not machine.enabled(step.name, *args):
            raise ModelError(f"{where}: scenario '{scenario.name}': {step.name} does not act after the steps "
                             "before it (its guard fails)")
        try:
            machine.run(step.name, *args)
        except SpecAssertionError as err:
            raise ModelError(f"{where}: scenario '{scenario.name}': {step.name} stops at an assert: "
                             f"{err}") from None
