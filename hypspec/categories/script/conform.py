"""The script harness's part of ``hypspec conform``, shared by the script categories (gic,
timers, tlb).

A script vector (:mod:`hypspec.categories.script.steps`) is register accesses, each from the mode
its step names, run after the prelude its file stores once (``meta.prelude``, taken from the file
itself: a script file without one, or with a malformed one, is bad input and nothing runs).  It
becomes a :class:`ScriptCase` for the script harness (:mod:`hypspec.categories.script.qemu`), and
what is compared is:

* the outcome: every step must run (field ``outcome``); an exception taken during the script
  (prelude included) is a disagreement naming the step and the exception;
* every read that carries an expectation (field ``read``, shown as ``read[<step>]``): exactly
  under its mask, or, for a counter-relative expectation, against the CNTPCT values the harness
  read in Hyp mode before and after the read, or before and after an earlier step that latches
  the count (a TimerValue write: :func:`hypspec.categories.script.case.latching`).

A ``tlb`` vector's reads carry no expectation: the vector lists every run the spec allows
(``outcomes``: the values of the reads in step order, and the step and HSR of the stage 2 abort
that ended the run, if one did), and one disagreement (field ``outcome``) says that the observed
run is none of them (:func:`compare_outcomes`).

A script disagreement also carries the flags of its step (``EL_<mode>``, ``OP_<op>``,
``REG_<register>``: :func:`hypspec.categories.script.case.step_flags`) and of the registers its
vector accesses (``READS_<register>``, ``WRITES_<register>``:
:func:`hypspec.categories.script.case.access_flags`) and accessed up to the step
(``SINCE_READS_<register>``, ``SINCE_WRITES_<register>``, the step included:
:func:`hypspec.categories.script.case.since_flags`), so that a deviation entry can name a
register, the vectors that use one, or only what follows a use.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypspec.categories.category import Harness, LoadedVector, VectorLoader, each_item
from hypspec.categories.script.case import (
    ScriptCase,
    ScriptObservation,
    access_flags,
    register_name,
    shipped_spec,
    since_flags,
    step_flags,
)
from hypspec.categories.script.case import validate as validate_script
from hypspec.categories.script.image import emit_script_elf
from hypspec.categories.script.qemu import run_scripts
from hypspec.categories.script.steps import (
    Expect,
    Outcome,
    ScriptError,
    Step,
    outcome_from_json,
    prelude_from_json,
    steps_from_json,
)
from hypspec.conformance.compare import Disagreement, same_vector, vector_error
from hypspec.conformance.errors import ConformanceInputError
from hypspec.conformance.manifest import add_expected


def script_vector_to_case(
    vector: dict[str, Any], category: str, prelude: tuple[Step, ...] = ()
) -> ScriptCase:
    """The script harness stimulus of a (schema-valid) ``gic``/``timers`` vector of a file whose
    prelude (``meta.prelude``, :func:`file_prelude`) is ``prelude``."""
    if "steps" not in vector:
        raise vector_error(vector, f"a {category} vector is a script: it needs 'steps'")
    if vector["category"] != category:
        raise vector_error(vector, f"category {vector['category']!r} in a file of category {category!r}")
    return ScriptCase(vector["id"], tuple(steps_from_json(vector["steps"])), prelude)


def file_prelude(path: Path, meta: dict[str, Any]) -> tuple[Step, ...]:
    """The prelude a script file's meta stores, checked; a missing or malformed one is a
    :class:`ConformanceInputError` naming the file and what is wrong."""
    try:
        return prelude_from_json(shipped_spec(), meta)
    except ScriptError as err:
        raise ConformanceInputError(f"{path}: meta.prelude: {err}; nothing was run") from err


def count_agrees(value: int, expect: Expect, before: int, after: int) -> bool:
    """Whether ``value == (count_sign * c + expect.value) mod 2**width`` for some c in
    [before, after]."""
    modulus = 1 << expect.width
    count = (expect.count_sign * (value - expect.value)) % modulus
    return after - before >= modulus or (count - before) % modulus <= after - before


def _expected_text(expect: Expect) -> str:
    if expect.count_sign == 0:
        return f"{expect.value & expect.mask:#010x}"
    sign = "" if expect.count_sign > 0 else "-"
    return f"{sign}count + {expect.value:#x} (mod 2^{expect.width})"


def _observed_text(value: int, expect: Expect, windows: list[tuple[int, int]]) -> str:
    if expect.count_sign == 0:
        return f"{value:#010x}"
    if not windows:
        return f"{value:#x} (no CNTPCT bounds: the harness did not time this step)"
    count = (expect.count_sign * (value - expect.value)) % (1 << expect.width)
    shown = ", ".join(f"[{low:#x}, {high:#x}]" for low, high in windows[-3:])
    return f"{value:#x} (count {count:#x}; CNTPCT around this and earlier timed steps: {shown})"


def _read_agrees(value: int, expect: Expect, windows: list[tuple[int, int]]) -> bool:
    """Exact under the mask, or counter-relative to the count at this step or at an earlier timed
    step (a TimerValue write latches the count it is made at: case.latching)."""
    if expect.count_sign == 0:
        return value & expect.mask == expect.value & expect.mask
    return any(count_agrees(value, expect, low, high) for low, high in windows)


def _script_disagreement(
    vector: dict[str, Any],
    case: ScriptCase,
    category: str,
    step: Step,
    index: int | None,
    field: str,
    expected: str,
    observed: str,
    mask: str | None = None,
    xor: int | None = None,
) -> Disagreement:
    """A disagreement at ``step``, the vector's own step ``index`` or a prelude step (``index``
    None), with the flags of the vector, its accesses and the step."""
    flags = (*vector.get("flags", ()), *access_flags(case), *since_flags(case, index), *step_flags(step))
    return Disagreement(vector["id"], category, field, expected, observed, flags, mask, xor)


def compare_script(
    vector: dict[str, Any], case: ScriptCase, observation: ScriptObservation, *, category: str
) -> list[Disagreement]:
    """The reads on which ``observation`` differs from what a script vector expects, and the
    outcome if the script did not run to its end."""
    same_vector(vector, observation)
    found = []
    if observation.outcome != "ok":
        seen = f"{observation.outcome} ({observation.detail})"
        if observation.prelude_step is not None:
            step, at = case.prelude[observation.prelude_step], None
        else:
            stopped = observation.stopped_at if observation.stopped_at is not None else 0
            at = min(stopped, len(case.steps) - 1)
            step = case.steps[at]
        found.append(_script_disagreement(vector, case, category, step, at, "outcome", "ok", seen))
    for index, step in enumerate(case.steps):
        expect = step.expect
        value = observation.reads.get(index)
        if expect is None or value is None:
            continue
        windows = [observation.bounds[k] for k in sorted(observation.bounds) if k <= index]
        if _read_agrees(value, expect, windows):
            continue
        name, _ = register_name(step)
        found.append(
            _script_disagreement(
                vector,
                case,
                category,
                step,
                index,
                f"read[{index}]",
                f"{_expected_text(expect)} ({step.el} {name})",
                _observed_text(value, expect, windows),
                f"{expect.mask:#010x}" if expect.count_sign == 0 else None,
                (value ^ expect.value) & expect.mask if expect.count_sign == 0 else None,
            )
        )
    return found


def _run_text(reads: Sequence[int], stop: str | None) -> str:
    shown = ", ".join(f"{value:#x}" for value in reads) or "none"
    return f"reads [{shown}], " + ("every step ran" if stop is None else stop)


def _allowed_text(outcome: Outcome) -> str:
    stop = outcome.stop
    if stop is None:
        return _run_text(outcome.reads, None)
    where = f"stopped at step {stop.step} with HSR {stop.hsr:#010x} (mask {stop.mask:#x})"
    return _run_text(outcome.reads, where)


def _allowed(outcome: Outcome, reads: tuple[int, ...], observation: ScriptObservation) -> bool:
    if outcome.reads != reads:
        return False
    if outcome.stop is None:
        return observation.outcome == "ok"
    stop, hsr = outcome.stop, observation.syndrome
    return observation.stopped_at == stop.step and hsr is not None and (hsr ^ stop.hsr) & stop.mask == 0


def compare_outcomes(
    vector: dict[str, Any], case: ScriptCase, observation: ScriptObservation, *, category: str
) -> list[Disagreement]:
    """A script vector that lists the runs the spec allows (``outcomes``, category ``tlb``): one
    disagreement (field ``outcome``) unless the observed run, the value of every read that ran
    and where it stopped, is one of them."""
    same_vector(vector, observation)
    allowed = [outcome_from_json(record) for record in vector["outcomes"]]
    reads = tuple(observation.reads[k] for k in sorted(observation.reads))
    if any(_allowed(outcome, reads, observation) for outcome in allowed):
        return []
    stopped = observation.stopped_at
    at = len(case.steps) - 1 if stopped is None else stopped
    seen = _run_text(reads, None if observation.outcome == "ok" else observation.detail)
    expected = "one of: " + "; ".join(_allowed_text(outcome) for outcome in allowed)
    step = case.prelude[observation.prelude_step] if observation.prelude_step is not None else case.steps[at]
    index = None if observation.prelude_step is not None else at
    return [_script_disagreement(vector, case, category, step, index, "outcome", expected, seen)]


def check_window(item: LoadedVector, observation: ScriptObservation) -> list[Disagreement]:
    """A disagreement for the first count the harness read outside the file's ``count_window``:
    the expectations were derived for counts inside it, so outside it they prove nothing."""
    if item.window is None:
        return []
    low, high = item.window
    for index, (before, after) in sorted(observation.bounds.items()):
        if not (low <= before and after < high):
            return [
                _script_disagreement(
                    item.vector,
                    item.case,
                    item.category,
                    item.case.steps[index],
                    index,
                    "outcome",
                    f"CNTPCT in [{low:#x}, {high:#x}) (meta.count_window)",
                    f"CNTPCT {before:#x}..{after:#x} around step {index}",
                )
            ]
    return []



# --- Images for a board --------------------------------------------------------------------------


_HOW_TO_CHECK_SCRIPTS = (
    "Run the 'qemu' command (or load the ELF on a board) and read the lines "
    "'R <index> <code> <step> <a> <b> <c> <d> <e> <nwords> <word>...' (hex without leading zeros; "
    "see hypspec/categories/script/qemu.py for the order of the words). Case <index> agrees when "
    "<code> is 0 and every entry of check holds: (read & mask) == (expected & mask), or, with "
    "count_sign s, read == (s * c + expected) mod 2^width for a c between the CNTPCT words "
    "around the step."
)


def script_manifest_entry(index: int, item: LoadedVector) -> dict[str, Any]:
    """What a board run must show for one script case: every read with an expectation."""
    check = {}
    for number, step in enumerate(item.case.steps):
        if step.expect is not None:
            check[str(number)] = {
                "register": register_name(step)[0],
                "el": step.el,
                "expected": f"{step.expect.value:#x}",
                "mask": f"{step.expect.mask:#x}",
                "count_sign": step.expect.count_sign,
                "width": step.expect.width,
            }
    entry = {
        "index": index,
        "id": item.case.id,
        "file": str(item.file),
        "category": item.category,
        "check": check,
    }
    if "outcomes" in item.vector:  # tlb: the runs the spec allows, one of which must be seen
        entry["outcomes"] = item.vector["outcomes"]
    return entry


def emit(items: Sequence[LoadedVector], out_dir: Path, batch: int) -> list[Path]:
    """``script_NNN.*`` images, each manifest with its cases' expected reads."""
    elves = emit_script_elf([item.case for item in items], out_dir, batch=batch)
    add_expected(elves, items, batch, _HOW_TO_CHECK_SCRIPTS, script_manifest_entry)
    return elves


def compare_item(item: LoadedVector, observation: ScriptObservation) -> list[Disagreement]:
    """A vector that lists the runs the spec allows is judged by them; any other by its reads,
    and by the file's count window."""
    if "outcomes" in item.vector:
        return compare_outcomes(item.vector, item.case, observation, category=item.category)
    found = compare_script(item.vector, item.case, observation, category=item.category)
    return found + check_window(item, observation)


def loader(path: Path, category: str, meta: dict[str, Any]) -> VectorLoader:
    """A script file's vectors run after its prelude, and its count window bounds their counts."""
    window = meta.get("count_window")
    bounds = None if window is None else (int(window["lo"], 16), int(window["hi"], 16))
    prelude = file_prelude(path, meta)

    def load(vector: dict[str, Any]) -> LoadedVector:
        script = script_vector_to_case(vector, category, prelude)
        validate_script(script)
        return LoadedVector(path, category, vector, script, bounds)

    return load


#: Scripts of register accesses from Hyp, SVC and User mode, one per case
#: (:mod:`hypspec.categories.script.qemu`).
HARNESS = Harness(
    fields=("outcome", "read"),
    loader=loader,
    run=run_scripts,
    compare=each_item(compare_item),
    emit=emit,
)
