"""``hypspec conform``: run spec-generated vectors on the QEMU harness and compare the results.

A vector (see :mod:`hypspec.vectors.store` and ``hypspec/vectors/schema.json``) says what the
spec predicts for one ``Model.Stage2GuestAccess``.  This module turns it into a
:class:`Stage2Case`, runs the cases with :func:`hypspec.conformance.qemu.run_stage2`, and compares
what QEMU did with what the spec said, field by field:

* the outcome: spec ``ok`` must be harness ``ok``, spec ``stage2_abort`` harness ``hyp_abort``;
* an ``ok`` read: ``expected.data`` against the loaded register (field ``data``);
* an ``ok`` write: the one doubleword in ``expected.memory`` against the word Hyp read back
  (field ``memory[<pa>]``);
* an ``ok`` fetch: the HVC immediate in HSR must be 2 (field ``fetched``), which proves the guest
  executed the ``hvc #2`` the spec placed at the translated PA;
* an abort: HSR, HDFAR, HIFAR and HPFAR from ``expected.registers``, each under
  ``masks[<reg>]`` (1 = compared; absent = all bits; ``0x0`` = not compared).

A ``traps`` vector (``Model.TrapDecision``) becomes a :class:`TrapCase` for the trap harness
(:mod:`hypspec.conformance.trap_qemu`), which runs one guest instruction under a trap
configuration; what is compared is what the spec computes:

* the outcome: spec ``execute`` must be harness ``executed``, ``undefined`` ``undefined``,
  ``hyp_trap`` ``hyp_trap``, ``supervisor_call`` the guest's Supervisor Call vector (harness
  ``other``), ``debug_exception`` the guest's Prefetch Abort vector (harness ``other``), and
  ``secure_monitor_call`` ``executed`` (the Secure Monitor, on QEMU its PSCI firmware, returns to
  the next instruction);
* for a Hyp trap, HSR under ``masks["HSR"]``;
* ``expected.return_address``: the offset from the instruction's address of ELR_hyp (Hyp trap),
  LR_und (UNDEFINED), LR_svc (Supervisor Call) or LR_abt (debug exception), as the spec's
  exception entry computes it.

The spec's trap decision computes no register values, so r0-r12 after an executed instruction
are not compared.

A ``gic``, ``timers`` or ``tlb`` vector is a script (:mod:`hypspec.vectors.script`): register accesses,
each from the mode its step names, run after the prelude its file stores once (``meta.prelude``,
taken from the file itself: a script file without one, or with a malformed one, is bad input and
nothing runs).  It becomes a :class:`ScriptCase` for the script harness
(:mod:`hypspec.conformance.script_qemu`), and what is compared is:

* the outcome: every step must run (field ``outcome``); an exception taken during the script
  (prelude included) is a disagreement naming the step and the exception;
* every read that carries an expectation (field ``read``, shown as ``read[<step>]``): exactly
  under its mask, or, for a counter-relative expectation, against the CNTPCT values the harness
  read in Hyp mode before and after the read, or before and after an earlier step that latches
  the count (a TimerValue write: :func:`hypspec.conformance.script_case.latching`).

A ``tlb`` vector's reads carry no expectation: the vector lists every run the spec allows
(``outcomes``: the values of the reads in step order, and the step and HSR of the stage 2 abort
that ended the run, if one did), and one disagreement (field ``outcome``) says that the observed
run is none of them (:func:`compare_outcomes`).

A script disagreement also carries the flags of its step (``EL_<mode>``, ``OP_<op>``,
``REG_<register>``: :func:`hypspec.conformance.script_case.step_flags`) and of the registers its
vector accesses (``READS_<register>``, ``WRITES_<register>``:
:func:`hypspec.conformance.script_case.access_flags`) and accessed up to the step
(``SINCE_READS_<register>``, ``SINCE_WRITES_<register>``, the step included:
:func:`hypspec.conformance.script_case.since_flags`), so that a deviation entry can name a
register, the vectors that use one, or only what follows a use.

A disagreement is *known* when an entry of the deviations file (``known_deviations.toml``)
matches its category and field, and the vector carries the entry's ``flag`` and every one of its
``flags`` (those it names).  Exit status (:mod:`hypspec.exitcodes`): 0 when every disagreement
is known, 1 when one is not, 2 for bad input (vector file, deviations file, unrunnable vector), 3
when the tools are missing or the harness itself failed, 130 when interrupted.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_DEVIATIONS, DEFAULT_JOBS
from hypspec.conformance.errors import (
    ConformanceInputError,
    HarnessBuildError,
)
from hypspec.conformance.layout import RAM_END, SCRATCH_BASE, validate
from hypspec.conformance.qemu import run_stage2
from hypspec.conformance.script_case import (
    ScriptCase,
    ScriptObservation,
    access_flags,
    register_name,
    shipped_spec,
    since_flags,
    step_flags,
)
from hypspec.conformance.script_case import validate as validate_script
from hypspec.conformance.script_image import emit_script_elf
from hypspec.conformance.script_qemu import run_scripts
from hypspec.conformance.stage2_case import Stage2Case, Stage2Observation
from hypspec.conformance.stage2_image import CODE_HYP_ABORT, CODE_OK, CODE_OK_WORD
from hypspec.conformance.toolchain import emit_elf as write_images
from hypspec.conformance.toolchain import find_toolchain
from hypspec.conformance.trap_case import (
    GUEST_CPSR,
    HCR_FORCED,
    REGISTER_NAMES,
    TrapCase,
    TrapObservation,
)
from hypspec.conformance.trap_case import validate as validate_trap
from hypspec.conformance.trap_image import assign_snippets, emit_trap_elf
from hypspec.conformance.trap_qemu import run_traps
from hypspec.exitcodes import ExitCode
from hypspec.files import staged_directory
from hypspec.interrupt import Interrupted
from hypspec.junit import Case, Suite
from hypspec.output import MeterFactory, no_meter
from hypspec.vectors.script import (
    Expect,
    Outcome,
    ScriptError,
    Step,
    outcome_from_json,
    prelude_from_json,
    steps_from_json,
)
from hypspec.vectors.store import read_vectors

REPORT_FORMAT = "hypspec-conform/1"
#: The JSON Schema of `hypspec conform --json` (docs/cli.md, "JSON reports").
REPORT_SCHEMA = Path(__file__).with_name("conform-report.schema.json")
EXPECTED_FORMAT = "hypspec-conform-expected/1"

HVC_2 = 0xE140_0072  # ``hvc #2``: what the spec places at the PA of a successful fetch
HVC_IMM_MASK = 0xFFFF  # HSR.ISS[15:0] of an HVC trap: the immediate
WORD = 0xFFFF_FFFF
DOUBLEWORD = (1 << 64) - 1
ABORT_REGISTERS = ("HSR", "HDFAR", "HIFAR", "HPFAR")
#: Registers a trap vector's return address is compared in (see ``expected.return_address``).
RETURN_REGISTERS = ("ELR_hyp", "LR_und", "LR_svc", "LR_abt")
#: Field names a disagreement (and a deviation entry) can carry; ``memory`` stands for
#: ``memory[<pa>]``, ``read`` (script vectors) for ``read[<step>]``.
FIELDS = ("outcome", "data", "memory", "fetched", *ABORT_REGISTERS, *RETURN_REGISTERS, "read")
#: The harness outcome each spec outcome must produce.
HARNESS_OUTCOME = {"ok": "ok", "stage2_abort": "hyp_abort"}
#: The trap harness outcome each outcome of ``Model.TrapDecision`` must produce.
TRAP_OUTCOME = {
    "execute": "executed",
    "undefined": "undefined",
    "hyp_trap": "hyp_trap",
    "supervisor_call": "other",
    "secure_monitor_call": "executed",
    "debug_exception": "other",
}
#: What the trap harness's ``detail`` starts with for an exception taken to one of the guest's
#: vectors, for the outcomes that name one.
GUEST_VECTOR_DETAIL = {
    "supervisor_call": "guest supervisor_call vector",
    "debug_exception": "guest prefetch_abort vector",
}
#: The category whose vectors run on the trap harness; every other category (``stage2`` and any
#: label a user gives a file of Stage 2 vectors) runs on the Stage 2 harness.
TRAPS = "traps"
#: The spec operation a category's vectors describe.
OPERATIONS = {"stage2": "Model.Stage2GuestAccess", TRAPS: "Model.TrapDecision"}
#: The categories whose vectors are scripts (no operation: steps), run on the script harness; a
#: ``tlb`` vector lists the runs the spec allows (``outcomes``) instead of one value per read.
SCRIPTS = ("gic", "timers", "tlb")


def category_operation(category: str) -> str:
    return OPERATIONS.get(category, OPERATIONS["stage2"])


# --- Disagreements and known deviations ----------------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    """One field on which the implementation did not do what the vector expected."""

    vector_id: str
    category: str
    field: str  # one of FIELDS, or ``memory[<pa>]``
    expected: str  # hex, or an outcome name
    observed: str  # hex, or an outcome name with the harness's detail
    flags: tuple[str, ...]
    mask: str | None = None  # hex; None for the outcome
    xor: int | None = None  # an exact script read: the bits (under the mask) that differ

    @property
    def base_field(self) -> str:
        """The field without its address: ``memory[0x50000000]`` -> ``memory``."""
        return self.field.split("[", 1)[0]


@dataclass(frozen=True)
class Deviation:
    """An explained disagreement between the spec and an implementation."""

    id: str
    category: str
    fields: tuple[str, ...]
    flag: str | None
    reason: str
    citation: str
    right: str  # "spec" or "implementation"
    flags: tuple[str, ...] = ()  # every one must be a flag of the vector, as must ``flag``
    differs_in: int | None = None  # script reads: every differing bit must be one of these

    def matches(self, disagreement: Disagreement) -> bool:
        required = (*self.flags, *([self.flag] if self.flag is not None else []))
        within = self.differs_in is None or (
            disagreement.xor is not None and disagreement.xor & ~self.differs_in == 0
        )
        return (
            disagreement.category == self.category
            and disagreement.base_field in self.fields
            and all(flag in disagreement.flags for flag in required)
            and within
        )


class DeviationsFileError(ConformanceInputError):
    """The known-deviations file is not valid TOML or an entry is malformed."""


_DEVIATION_KEYS = {"id", "category", "fields", "flag", "flags", "differs_in", "reason", "citation", "right"}
_DEVIATION_REQUIRED = _DEVIATION_KEYS - {"flag", "flags", "differs_in"}
_HEX = re.compile(r"0x[0-9a-f]+")
_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
_CATEGORY = re.compile(r"[a-z0-9]+")
_FLAG = re.compile(r"[A-Z0-9_]+")
_SECTION = re.compile(r"\b[A-D]\d+(\.\d+)*\b")
_GIC_SECTION = re.compile(r"§\d+(\.\d+)*")


def _entry_error(path: Path, index: int, entry: dict[str, Any], message: str) -> DeviationsFileError:
    name = f" (id {entry['id']!r})" if isinstance(entry.get("id"), str) else ""
    return DeviationsFileError(f"{path}: [[deviation]] entry {index}{name}: {message}")


def _nonempty_string(entry: dict[str, Any], key: str) -> str | None:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        return f"'{key}' must be a non-empty string, not {value!r}"
    return None


def _entry_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with one ``[[deviation]]`` table, or None."""
    unknown = sorted(set(entry) - _DEVIATION_KEYS)
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_DEVIATION_KEYS))})"
    missing = sorted(_DEVIATION_REQUIRED - set(entry))
    if missing:
        return f"missing key {missing[0]!r} (required: {', '.join(sorted(_DEVIATION_REQUIRED))})"
    for key in ("id", "category", "reason", "citation"):
        if problem := _nonempty_string(entry, key):
            return problem
    if not _ID.fullmatch(entry["id"]):
        return f"'id' {entry['id']!r} must match [a-z0-9][a-z0-9-]*"
    if not _CATEGORY.fullmatch(entry["category"]):
        return f"'category' {entry['category']!r} must match [a-z0-9]+ (a vector file's meta.category)"
    fields = entry["fields"]
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        return f"'fields' must be a non-empty list of field names, not {fields!r}"
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        return f"'fields' has {bad[0]!r}, which is not a compared field (one of: {', '.join(FIELDS)})"
    flag = entry.get("flag")
    if flag is not None and not (isinstance(flag, str) and _FLAG.fullmatch(flag)):
        return f"'flag' {flag!r} must be a vector flag, matching [A-Z0-9_]+"
    flags = entry.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) and _FLAG.fullmatch(f) for f in flags):
        return f"'flags' {flags!r} must be a list of vector flags, each matching [A-Z0-9_]+"
    citation = entry["citation"]
    arm_arm = "DDI 0406C.d" in citation and _SECTION.search(citation)
    gic = "IHI 0048B" in citation and _GIC_SECTION.search(citation)
    if not (arm_arm or gic):
        return (
            f"'citation' {citation!r} must cite the section that decides the question, as "
            "'ARM DDI 0406C.d §B3.13.6' or, for the GIC, 'ARM IHI 0048B.b §5.3.3' (it must "
            "contain 'DDI 0406C.d' and a section, or 'IHI 0048B' and a § section)"
        )
    differs_in = entry.get("differs_in")
    if differs_in is not None and not (isinstance(differs_in, str) and _HEX.fullmatch(differs_in)):
        return f"'differs_in' {differs_in!r} must be a lowercase hex string such as \"0x1c00\""
    if entry["right"] not in ("spec", "implementation"):
        return f'\'right\' must be "spec" or "implementation", not {entry["right"]!r}'
    return None


def load_deviations(path: Path = DEFAULT_DEVIATIONS) -> list[Deviation]:
    """Read and validate a known-deviations file; errors name the file and the entry (1-based)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DeviationsFileError(f"{path}: cannot read the deviations file: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise DeviationsFileError(f"{path}: not valid TOML: {err}") from err
    extra = sorted(set(data) - {"deviation"})
    if extra:
        raise DeviationsFileError(
            f"{path}: unknown top-level key {extra[0]!r}: the file holds only [[deviation]] entries"
        )
    entries = data.get("deviation", [])
    if not isinstance(entries, list):
        raise DeviationsFileError(f"{path}: 'deviation' must be an array of tables: [[deviation]]")
    deviations: list[Deviation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise DeviationsFileError(f"{path}: [[deviation]] entry {index} is not a table")
        problem = _entry_problem(entry)
        if problem is None and entry["id"] in seen:
            problem = f"id {entry['id']!r} is used by an earlier entry"
        if problem is not None:
            raise _entry_error(path, index, entry, problem)
        seen.add(entry["id"])
        deviations.append(
            Deviation(
                id=entry["id"],
                category=entry["category"],
                fields=tuple(entry["fields"]),
                flag=entry.get("flag"),
                reason=entry["reason"],
                citation=entry["citation"],
                right=entry["right"],
                flags=tuple(entry.get("flags", [])),
                differs_in=int(entry["differs_in"], 16) if "differs_in" in entry else None,
            )
        )
    return deviations


def match_deviation(disagreement: Disagreement, deviations: Sequence[Deviation]) -> Deviation | None:
    """The first deviation that explains ``disagreement``, or None."""
    return next((d for d in deviations if d.matches(disagreement)), None)


# --- Vector -> case ------------------------------------------------------------------------------


def _vector_error(vector: dict[str, Any], message: str) -> ConformanceInputError:
    return ConformanceInputError(f"vector {vector.get('id', '?')!r}: {message}")


def _register(vector: dict[str, Any], name: str) -> int:
    registers = vector["state"]["registers"]
    if name not in registers:
        raise _vector_error(
            vector, f"state.registers has no {name}; the harness needs VTCR, VTTBR and HCR (VM=1)"
        )
    return int(registers[name], 16)


def vector_to_case(vector: dict[str, Any]) -> Stage2Case:
    """The harness stimulus of a (schema-valid) vector; the vector id becomes the case id.

    Raises :class:`ConformanceInputError` if the vector's HCR does not enable Stage 2: the harness
    always runs the guest with HCR.VM = 1.
    """
    hcr = _register(vector, "HCR")
    if not hcr & 1:
        raise _vector_error(
            vector,
            f"HCR {hcr:#x} has VM (bit 0) clear, so the spec translates without Stage 2; the "
            "harness always runs the guest with HCR.VM=1 and cannot observe such a vector",
        )
    operation = vector["operation"]
    return Stage2Case(
        id=vector["id"],
        vtcr=_register(vector, "VTCR"),
        vttbr=_register(vector, "VTTBR"),
        memory={int(pa, 16): int(word, 16) for pa, word in vector["state"]["memory"].items()},
        access=operation["access"],
        ipa=int(operation["va"], 16),
        size=operation["size"],
        signed=operation["signed"],
        rt=operation["rt"],
        value=int(operation["value"], 16),
    )


# --- What a vector expects, field by field -------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One compared value: ``observed & mask == expected & mask``."""

    field: str
    expected: int
    mask: int
    digits: int  # hex digits to print

    def hex(self, value: int) -> str:
        return f"{value:#0{self.digits + 2}x}"


def _mask(vector: dict[str, Any], register: str) -> int:
    text = vector["masks"].get(register)
    return WORD if text is None else int(text, 16)


def _write_check(vector: dict[str, Any]) -> Check:
    memory = vector["expected"]["memory"]
    if len(memory) != 1:
        raise _vector_error(
            vector,
            f"an ok write must give exactly one word in expected.memory (the doubleword holding "
            f"the stored bytes, after the store); it gives {len(memory)}",
        )
    [(pa_text, word_text)] = memory.items()
    pa, word = int(pa_text, 16), int(word_text, 16)
    if pa % 8 or word > DOUBLEWORD:
        raise _vector_error(
            vector, f"expected.memory {pa_text}: {word_text} is not an 8-aligned PA -> 64-bit word"
        )
    if not SCRATCH_BASE <= pa < RAM_END:
        raise _vector_error(
            vector,
            f"expected.memory PA {pa:#x} is outside [{SCRATCH_BASE:#x}, {RAM_END:#x}), the RAM the "
            "harness can read back after a store, so the write's result cannot be observed",
        )
    return Check(f"memory[{pa:#x}]", word, DOUBLEWORD, 16)


def _ok_checks(vector: dict[str, Any]) -> list[Check]:
    access = vector["operation"]["access"]
    expected = vector["expected"]
    if access == "write":
        return [_write_check(vector)]
    if access == "fetch":
        data = expected.get("data")
        if data is not None and int(data, 16) != HVC_2:
            raise _vector_error(
                vector,
                f"an ok fetch must find hvc #2 ({HVC_2:#x}) at the translated PA, but "
                f"expected.data is {data}; the harness only observes a fetch that ends in that HVC",
            )
        return [Check("fetched", 2, HVC_IMM_MASK, 4)]
    if "data" not in expected:
        raise _vector_error(vector, "an ok read must give expected.data, the loaded register value")
    data = int(expected["data"], 16)
    if data > WORD:
        raise _vector_error(vector, f"expected.data {expected['data']} is wider than a 32-bit register")
    return [Check("data", data, WORD, 8)]


def _abort_checks(vector: dict[str, Any]) -> list[Check]:
    registers = vector["expected"]["registers"]
    checks = []
    for name in ABORT_REGISTERS:
        mask = _mask(vector, name)
        if name in registers and mask & WORD:
            checks.append(Check(name, int(registers[name], 16), mask & WORD, 8))
    return checks


def expected_checks(vector: dict[str, Any]) -> list[Check]:
    """Every value compared for ``vector`` besides its outcome.

    Raises :class:`ConformanceInputError` when the vector expects something the harness cannot
    observe (an ok read without data, an ok write without exactly one readable word, ...).
    """
    outcome = vector["expected"]["outcome"]
    return _ok_checks(vector) if outcome == "ok" else _abort_checks(vector)


def _observed_value(check: Check, observation: Stage2Observation) -> int | None:
    name = check.field.split("[", 1)[0]
    if name == "data":
        return observation.value
    if name == "memory":
        return observation.word_after
    if name == "fetched":
        return observation.hsr
    return getattr(observation, name.lower())


# --- Comparison ----------------------------------------------------------------------------------


def _outcome_text(observation: Stage2Observation) -> str:
    """The harness outcome with every value it reported, e.g. ``hyp_abort hsr=0x... (detail)``."""
    values = [
        f"{name}={value:#0{18 if name == 'word_after' else 10}x}"
        for name in ("hsr", "hdfar", "hifar", "hpfar", "value", "word_after")
        if (value := getattr(observation, name)) is not None
    ]
    detail = f" ({observation.detail})" if observation.detail else ""
    return " ".join([observation.outcome, *values]) + detail


def compare(
    vector: dict[str, Any], observation: Stage2Observation, *, category: str = "stage2"
) -> list[Disagreement]:
    """The fields on which ``observation`` differs from what ``vector`` expects."""
    if observation.id != vector["id"]:
        raise ValueError(f"observation {observation.id!r} is not of vector {vector['id']!r}")
    flags = tuple(vector["flags"])
    outcome = vector["expected"]["outcome"]
    if observation.outcome != HARNESS_OUTCOME[outcome]:
        seen = _outcome_text(observation)
        return [Disagreement(vector["id"], category, "outcome", outcome, seen, flags)]
    found = []
    for check in expected_checks(vector):
        disagreement = _checked(vector, category, check, _observed_value(check, observation), flags,
                                observation.detail)
        if disagreement is not None:
            found.append(disagreement)
    return found


def _checked(
    vector: dict[str, Any], category: str, check: Check, value: int | None, flags: tuple[str, ...],
    detail: str = "",
) -> Disagreement | None:
    """The disagreement of one masked check against the observed `value` (None: not observed)."""
    if value is not None and value & check.mask == check.expected & check.mask:
        return None
    seen = "none" if value is None else check.hex(value)
    if value is None and detail:
        seen += f" ({detail})"
    return Disagreement(
        vector["id"], category, check.field, check.hex(check.expected), seen, flags, check.hex(check.mask)
    )


# --- Trap vectors --------------------------------------------------------------------------------


def trap_vector_to_case(vector: dict[str, Any]) -> TrapCase:
    """The trap harness stimulus of a (schema-valid) ``traps`` vector; the vector id is the case id.

    Raises :class:`ConformanceInputError` when the vector's state is not one the harness can
    produce: the CPSR must be the one the harness enters the vector's mode with, HCR must hold
    the bits the harness forces (IMO), and PMUSERENR, which the harness does not program, must
    be 0 (QEMU's reset value).
    """
    operation = vector["operation"]
    mode = operation["mode"]
    registers = {name: int(value, 16) for name, value in vector["state"]["registers"].items()}
    for name in ("CPSR", *REGISTER_NAMES):
        if name not in registers:
            raise _vector_error(
                vector,
                f"state.registers has no {name}; the trap harness needs CPSR and {', '.join(REGISTER_NAMES)}",
            )
    if registers["CPSR"] != GUEST_CPSR[mode]:
        raise _vector_error(
            vector,
            f"CPSR {registers['CPSR']:#x} is not {GUEST_CPSR[mode]:#x}, the CPSR the harness enters "
            f"{mode} mode with",
        )
    if registers["HCR"] & HCR_FORCED != HCR_FORCED:
        raise _vector_error(
            vector,
            f"HCR {registers['HCR']:#x} lacks the bits the harness forces ({HCR_FORCED:#x}, HCR.IMO), "
            "so the spec would decide for another HCR than the one the instruction runs with",
        )
    if registers.get("PMUSERENR", 0):
        raise _vector_error(vector, "PMUSERENR must be 0: the trap harness does not program it")
    gprs = {int(name[1:]): int(value, 16) for name, value in vector["state"]["gprs"].items()}
    return TrapCase(
        id=vector["id"],
        mode=mode,
        instruction=int(operation["opcode"], 16),
        registers={name: registers[name] for name in REGISTER_NAMES},
        gprs=gprs,
    )


#: The register an exception entry puts the return address in, by spec outcome.
_RETURN_REGISTER = {
    "hyp_trap": "ELR_hyp",
    "undefined": "LR_und",
    "supervisor_call": "LR_svc",
    "debug_exception": "LR_abt",
}


def trap_checks(vector: dict[str, Any], expected: dict[str, Any] | None = None) -> list[Check]:
    """Every value compared for a ``traps`` vector besides its outcome, for its expected outcome
    or for ``expected``, one of its ``alternatives``.

    ``return_address`` checks compare offsets from the instruction's address (modulo 2^32).
    """
    expected = vector["expected"] if expected is None else expected
    outcome = expected["outcome"]
    checks = []
    if outcome == "hyp_trap":
        if "HSR" not in expected["registers"]:
            raise _vector_error(vector, "a hyp_trap must give expected.registers.HSR, the syndrome")
        mask = _mask(vector, "HSR") & WORD
        if mask:
            checks.append(Check("HSR", int(expected["registers"]["HSR"], 16), mask, 8))
    returned = expected.get("return_address")
    if returned is not None:
        register = _RETURN_REGISTER.get(outcome)
        if returned["register"] != register:
            raise _vector_error(
                vector,
                f"expected.return_address names {returned['register']}, but a {outcome} outcome "
                f"leaves its return address in {register or 'no register the harness reports'}",
            )
        checks.append(Check(register, returned["offset"], WORD, 8))
    return checks


_LR = re.compile(r"\blr=0x([0-9a-f]{8})\b")


def _trap_observed(check: Check, observation: TrapObservation, address: int) -> int | None:
    if check.field == "HSR":
        return observation.hsr
    if check.field in ("LR_svc", "LR_abt"):
        match = _LR.search(observation.detail)
        return None if match is None else (int(match[1], 16) - address) & WORD
    return None if observation.elr is None else (observation.elr - address) & WORD


def _trap_outcome_matches(outcome: str, observation: TrapObservation) -> bool:
    if observation.outcome != TRAP_OUTCOME[outcome]:
        return False
    return observation.detail.startswith(GUEST_VECTOR_DETAIL.get(outcome, ""))


def _trap_outcome_text(observation: TrapObservation) -> str:
    values = [
        f"{name}={value:#010x}"
        for name in ("hsr", "elr")
        if (value := getattr(observation, name)) is not None
    ]
    detail = f" ({observation.detail})" if observation.detail else ""
    return " ".join([observation.outcome, *values]) + detail


def compare_trap(
    vector: dict[str, Any], observation: TrapObservation, address: int, *, category: str = "traps"
) -> list[Disagreement]:
    """The fields on which ``observation`` differs from what a ``traps`` vector expects.

    ``address`` is where the harness placed the instruction (return addresses are offsets from it).
    """
    if observation.id != vector["id"]:
        raise ValueError(f"observation {observation.id!r} is not of vector {vector['id']!r}")
    found = _trap_differences(vector, vector["expected"], observation, address, category)
    alternatives = vector["expected"].get("alternatives", [])
    if found and any(not _trap_differences(vector, a, observation, address, category) for a in alternatives):
        return []
    return found


def _trap_differences(
    vector: dict[str, Any],
    expected: dict[str, Any],
    observation: TrapObservation,
    address: int,
    category: str,
) -> list[Disagreement]:
    """How ``observation`` differs from one permitted outcome of a ``traps`` vector."""
    flags = tuple(vector["flags"])
    outcome = expected["outcome"]
    if not _trap_outcome_matches(outcome, observation):
        seen = _trap_outcome_text(observation)
        return [Disagreement(vector["id"], category, "outcome", outcome, seen, flags)]
    found = []
    for check in trap_checks(vector, expected):
        disagreement = _checked(vector, category, check, _trap_observed(check, observation, address), flags)
        if disagreement is not None:
            found.append(disagreement)
    return found


def trap_addresses(cases: Sequence[TrapCase], batch: int) -> dict[str, int]:
    """Where :func:`run_traps` with this ``batch`` places each case's instruction, by case id."""
    addresses: dict[str, int] = {}
    for start in range(0, len(cases), batch):
        chunk = cases[start : start + batch]
        for case, snippet in zip(chunk, assign_snippets(chunk), strict=True):
            addresses[case.id] = snippet.address
    return addresses


# --- Script vectors (gic, timers) -----------------------------------------------------------------


def script_vector_to_case(
    vector: dict[str, Any], category: str, prelude: tuple[Step, ...] = ()
) -> ScriptCase:
    """The script harness stimulus of a (schema-valid) ``gic``/``timers`` vector of a file whose
    prelude (``meta.prelude``, :func:`file_prelude`) is ``prelude``."""
    if "steps" not in vector:
        raise _vector_error(vector, f"a {category} vector is a script: it needs 'steps'")
    if vector["category"] != category:
        raise _vector_error(vector, f"category {vector['category']!r} in a file of category {category!r}")
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
    step (a TimerValue write latches the count it is made at: script_case.latching)."""
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
    if observation.id != vector["id"]:
        raise ValueError(f"observation {observation.id!r} is not of vector {vector['id']!r}")
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
    if observation.id != vector["id"]:
        raise ValueError(f"observation {observation.id!r} is not of vector {vector['id']!r}")
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
    assert isinstance(item.case, ScriptCase)
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


# --- Loading a run's vectors ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoadedVector:
    file: Path
    category: str
    vector: dict[str, Any]
    case: Stage2Case | TrapCase | ScriptCase
    window: tuple[int, int] | None = None  # script files: meta.count_window (lo, hi)


@dataclass(frozen=True)
class FileSummary:
    path: Path
    category: str
    count: int
    spec_hash: str


def vector_files(paths: Sequence[Path]) -> list[Path]:
    """Every ``*.jsonl`` under the given directories, plus the given files, sorted, once each."""
    files: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(path.glob("*.jsonl"))
            if not found:
                raise ConformanceInputError(f"{path}: directory holds no *.jsonl vector files")
            files.update(found)
        elif path.is_file():
            files.add(path)
        else:
            raise ConformanceInputError(f"{path}: no such file or directory")
    return sorted(files)


def _load_vector(
    path: Path,
    category: str,
    vector: dict[str, Any],
    window: tuple[int, int] | None = None,
    prelude: tuple[Step, ...] = (),
) -> LoadedVector:
    if category in SCRIPTS:
        script = script_vector_to_case(vector, category, prelude)
        validate_script(script)
        return LoadedVector(path, category, vector, script, window)
    if "operation" not in vector:
        raise _vector_error(
            vector,
            f"a script vector in a file of category {category!r}; script vectors run from files "
            f"of category {' or '.join(repr(c) for c in SCRIPTS)}",
        )
    operation, wanted = vector["operation"]["name"], category_operation(category)
    if operation != wanted:
        raise _vector_error(
            vector,
            f"operation {operation} in a file of category {category!r}, whose vectors are {wanted} "
            f"(Model.TrapDecision vectors run from files of category {TRAPS!r})",
        )
    if category == TRAPS:
        trap = trap_vector_to_case(vector)
        validate_trap(trap)
        trap_checks(vector)
        return LoadedVector(path, category, vector, trap)
    case = vector_to_case(vector)
    validate(case)
    expected_checks(vector)
    return LoadedVector(path, category, vector, case)


def load_run(
    files: Sequence[Path], progress: Callable[[str], None] | None = None
) -> tuple[list[FileSummary], list[LoadedVector]]:
    """Read, validate and convert every vector; report every unrunnable one at once."""
    summaries: list[FileSummary] = []
    loaded: list[LoadedVector] = []
    problems: list[str] = []
    first_file: dict[str, Path] = {}
    for path in files:
        contents = read_vectors(path)
        meta = contents.meta
        summaries.append(FileSummary(path, meta["category"], len(contents.vectors), meta["spec_hash"]))
        window = meta.get("count_window")
        bounds = None if window is None else (int(window["lo"], 16), int(window["hi"], 16))
        prelude = file_prelude(path, meta) if meta["category"] in SCRIPTS else ()
        if progress is not None:
            progress(f"conform: read {path} ({len(contents.vectors)} vectors)")
        for vector in contents.vectors:
            vector_id = vector["id"]
            if vector_id in first_file:
                # Two files of one category (two seeds, each a CATEGORY.jsonl in its own directory)
                # share ids such as random-0001; the run tells the second one apart by its file.
                vector = {**vector, "id": f"{vector_id}@{path}"}
                if vector["id"] in first_file:
                    problems.append(f"{path}: vector {vector_id!r}: the run would name it "
                                    f"{vector['id']!r}, which another vector is called")
                    continue
                vector_id = vector["id"]
            first_file[vector_id] = path
            try:
                loaded.append(_load_vector(path, meta["category"], vector, bounds, prelude))
            except ConformanceInputError as err:
                problems.append(f"{path}: vector {vector_id!r} cannot be run: {err}")
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        raise ConformanceInputError(
            f"{len(problems)} problem(s) with the vectors; nothing was run:\n  {shown}{more}"
        )
    return summaries, loaded


# --- Images for a board --------------------------------------------------------------------------


def _manifest_check(check: Check) -> dict[str, dict[str, str]]:
    """The R-line columns (see qemu.py) a check reads, with expected value and mask."""
    name = check.field.split("[", 1)[0]
    if name == "memory":
        return {
            "wlo": {"expected": f"{check.expected & WORD:#010x}", "mask": f"{check.mask & WORD:#010x}"},
            "whi": {"expected": f"{check.expected >> 32:#010x}", "mask": f"{check.mask >> 32:#010x}"},
        }
    column = {"data": "value", "fetched": "hsr"}.get(name, name.lower())
    return {column: {"expected": f"{check.expected:#010x}", "mask": f"{check.mask:#010x}"}}


def manifest_entry(index: int, item: LoadedVector) -> dict[str, Any]:
    """What a board run must print for one case, in terms of its ``R`` line."""
    vector, case = item.vector, item.case
    outcome = vector["expected"]["outcome"]
    if outcome == "stage2_abort":
        codes = [CODE_HYP_ABORT]
    else:
        codes = [CODE_OK_WORD] if case.access == "write" else [CODE_OK]
    columns: dict[str, dict[str, str]] = {}
    for check in expected_checks(vector):
        columns.update(_manifest_check(check))
    return {
        "index": index,
        "id": case.id,
        "file": str(item.file),
        "category": item.category,
        "access": case.access,
        "ipa": f"{case.ipa:#010x}",
        "size": case.size,
        "outcome": outcome,
        "report_codes": codes,
        "check": columns,
    }


_HOW_TO_CHECK = (
    "Run the 'qemu' command (or load the ELF on a board) and read the lines "
    "'R <index> <code> <hsr> <hdfar> <hifar> <hpfar> <value> <wlo> <whi> <parlo> <parhi>'. "
    "Case <index> agrees when <code> is in report_codes and, for every column in check, "
    "(column & mask) == (expected & mask)."
)


_HOW_TO_CHECK_TRAPS = (
    "Run the 'qemu' command (or load the ELF on a board) and read the lines "
    "'R <index> <code> <tries> <hsr> <elr> <spsr> <vec> <glr> <gspsr> <fsr> <far> [rN=value]...' "
    "(see hypspec/conformance/trap_qemu.py for how a line becomes an outcome). Case <index> agrees "
    "when its outcome is 'outcome' and, for every entry of check, (value & mask) == (expected & mask), "
    "or the same holds for one entry of 'alternatives' (the other outcomes the spec permits), "
    "where hsr is the <hsr> column, and ELR_hyp, LR_und (<glr> of the undefined vector), LR_svc "
    "(<glr> of the supervisor call vector) and LR_abt (<glr> of the prefetch abort vector) are "
    "offsets from the case's 'address'."
)


def trap_manifest_entry(index: int, item: LoadedVector, address: int) -> dict[str, Any]:
    """What a board run must show for one trap case."""
    vector = item.vector
    entry = {
        "index": index,
        "id": vector["id"],
        "file": str(item.file),
        "category": item.category,
        "address": f"{address:#010x}",
        "instruction": vector["operation"]["opcode"],
        **_manifest_outcome(vector, vector["expected"]),
    }
    alternatives = vector["expected"].get("alternatives")
    if alternatives:
        entry["alternatives"] = [_manifest_outcome(vector, a) for a in alternatives]
    return entry


def _manifest_outcome(vector: dict[str, Any], expected: dict[str, Any]) -> dict[str, Any]:
    checks = trap_checks(vector, expected)
    outcome = expected["outcome"]
    return {
        "spec_outcome": outcome,
        "outcome": TRAP_OUTCOME[outcome],
        "check": {c.field: {"expected": c.hex(c.expected), "mask": c.hex(c.mask)} for c in checks},
    }


def _emit_trap_images(items: Sequence[LoadedVector], out_dir: Path, *, batch: int) -> list[Path]:
    cases = [item.case for item in items]
    elves = emit_trap_elf(cases, out_dir, batch=batch)  # type: ignore[arg-type]
    addresses = trap_addresses(cases, batch)  # type: ignore[arg-type]
    for number, elf in enumerate(elves):
        chunk = items[number * batch : (number + 1) * batch]
        manifest_path = elf.with_suffix(".json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if [c["id"] for c in manifest["cases"]] != [item.case.id for item in chunk]:
            raise HarnessBuildError(f"{manifest_path}: cases do not match the images' batches")
        manifest["expected_format"] = EXPECTED_FORMAT
        manifest["how_to_check"] = _HOW_TO_CHECK_TRAPS
        manifest["expected"] = [
            trap_manifest_entry(i, item, addresses[item.case.id]) for i, item in enumerate(chunk)
        ]
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return elves


_HOW_TO_CHECK_SCRIPTS = (
    "Run the 'qemu' command (or load the ELF on a board) and read the lines "
    "'R <index> <code> <step> <a> <b> <c> <d> <e> <nwords> <word>...' (hex without leading zeros; "
    "see hypspec/conformance/script_qemu.py for the order of the words). Case <index> agrees when "
    "<code> is 0 and every entry of check holds: (read & mask) == (expected & mask), or, with "
    "count_sign s, read == (s * c + expected) mod 2^width for a c between the CNTPCT words "
    "around the step."
)


def script_manifest_entry(index: int, item: LoadedVector) -> dict[str, Any]:
    """What a board run must show for one script case: every read with an expectation."""
    assert isinstance(item.case, ScriptCase)
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


def _emit_script_images(items: Sequence[LoadedVector], out_dir: Path, *, batch: int) -> list[Path]:
    elves = emit_script_elf([item.case for item in items], out_dir, batch=batch)  # type: ignore[misc]
    for number, elf in enumerate(elves):
        chunk = items[number * batch : (number + 1) * batch]
        manifest_path = elf.with_suffix(".json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        manifest["expected_format"] = EXPECTED_FORMAT
        manifest["how_to_check"] = _HOW_TO_CHECK_SCRIPTS
        manifest["expected"] = [script_manifest_entry(i, item) for i, item in enumerate(chunk)]
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return elves


def emit_images(items: Sequence[LoadedVector], out_dir: Path, *, batch: int) -> list[Path]:
    """Write the ELF images and per-image manifests, with each case's expected results.

    Stage 2 cases go to ``stage2_NNN.*`` images, trap cases to ``trap_NNN.*``, script cases to
    ``script_NNN.*``.
    """
    traps = [item for item in items if isinstance(item.case, TrapCase)]
    scripts = [item for item in items if isinstance(item.case, ScriptCase)]
    items = [item for item in items if isinstance(item.case, Stage2Case)]
    trap_elves = _emit_trap_images(traps, out_dir, batch=batch) if traps else []
    trap_elves += _emit_script_images(scripts, out_dir, batch=batch) if scripts else []
    if not items:
        return trap_elves
    elves = write_images([item.case for item in items], out_dir, batch=batch)  # type: ignore[misc]
    for number, elf in enumerate(elves):
        chunk = items[number * batch : (number + 1) * batch]
        manifest_path = elf.with_suffix(".json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest["cases"] != [item.case.id for item in chunk]:
            raise HarnessBuildError(f"{manifest_path}: cases do not match the images' batches")
        manifest["expected_format"] = EXPECTED_FORMAT
        manifest["how_to_check"] = _HOW_TO_CHECK
        manifest["expected"] = [manifest_entry(i, item) for i, item in enumerate(chunk)]
        manifest_path.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return elves + trap_elves


# --- The run and its report ----------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A disagreement, where its vector came from, and the deviation that explains it (if any)."""

    disagreement: Disagreement
    file: Path
    deviation: Deviation | None


@dataclass
class CategoryCounts:
    """Vectors of a category: ``agree`` + ``disagree`` + ``known`` == ``vectors``.

    ``disagree`` counts vectors with at least one unknown disagreement, ``known`` vectors whose
    disagreements are all known; ``agreement`` is the percentage that agree outright, and
    ``judged`` the percentage left once the judged deviations are set apart (agree or known).
    """

    vectors: int = 0
    agree: int = 0
    disagree: int = 0
    known: int = 0

    @property
    def agreement(self) -> float:
        return 100.0 * self.agree / self.vectors if self.vectors else 100.0

    @property
    def judged(self) -> float:
        return 100.0 * (self.agree + self.known) / self.vectors if self.vectors else 100.0

    def add(self, findings: Sequence[Finding]) -> None:
        self.vectors += 1
        if not findings:
            self.agree += 1
        elif any(f.deviation is None for f in findings):
            self.disagree += 1
        else:
            self.known += 1

    def as_json(self) -> dict[str, Any]:
        return {
            "vectors": self.vectors,
            "agree": self.agree,
            "disagree": self.disagree,
            "known": self.known,
            "agreement_percent": round(self.agreement, 2),
            "judged_agreement_percent": round(self.judged, 2),
        }


@dataclass
class ConformReport:
    files: list[FileSummary]
    categories: dict[str, CategoryCounts]
    findings: list[Finding]
    deviations: list[Deviation]
    images: list[Path] = field(default_factory=list)
    spec_hash: str = ""  # the hash of the spec's chapters now (`hypspec.api.spec_hash`)

    @property
    def unknown(self) -> list[Finding]:
        return [f for f in self.findings if f.deviation is None]

    @property
    def known(self) -> list[Finding]:
        return [f for f in self.findings if f.deviation is not None]

    @property
    def exit_code(self) -> int:
        return ExitCode.FAILED if self.unknown else ExitCode.OK

    @property
    def total(self) -> CategoryCounts:
        counts = CategoryCounts()
        for c in self.categories.values():
            counts.vectors += c.vectors
            counts.agree += c.agree
            counts.disagree += c.disagree
            counts.known += c.known
        return counts

    def by_field(self) -> list[tuple[str, str, int, int]]:
        """(category, field, known, unknown), sorted."""
        known: Counter[tuple[str, str]] = Counter()
        unknown: Counter[tuple[str, str]] = Counter()
        for f in self.findings:
            key = (f.disagreement.category, f.disagreement.base_field)
            (unknown if f.deviation is None else known)[key] += 1
        keys = sorted(set(known) | set(unknown))
        return [(cat, name, known[(cat, name)], unknown[(cat, name)]) for cat, name in keys]

    def by_deviation(self) -> list[tuple[str, int]]:
        """(deviation, the disagreements it explains), for every deviation of a category that ran,
        in the deviations file's order."""
        explained = Counter(f.deviation.id for f in self.known if f.deviation is not None)
        return [(d.id, explained[d.id]) for d in self.deviations if d.category in self.categories]

    @property
    def unused_deviations(self) -> list[str]:
        """The deviations of the categories that ran that explained nothing: a category that did
        not run cannot have used its deviations."""
        return [name for name, count in self.by_deviation() if count == 0]

    @property
    def stale_files(self) -> list[FileSummary]:
        """The vector files made from another text of the spec than the one loaded now: their
        expected values may no longer be the spec's."""
        return [s for s in self.files if self.spec_hash and s.spec_hash != self.spec_hash]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "files": [
                {"path": str(s.path), "category": s.category, "count": s.count, "spec_hash": s.spec_hash}
                for s in self.files
            ],
            "categories": {name: c.as_json() for name, c in sorted(self.categories.items())},
            "total": self.total.as_json(),
            "fields": [
                {"category": c, "field": n, "disagreements": k + u, "known": k, "unknown": u}
                for c, n, k, u in self.by_field()
            ],
            "disagreements": [_finding_json(f) for f in self.findings],
            "unknown": len(self.unknown),
            "known": len(self.known),
            "deviations": [{"id": name, "disagreements": count} for name, count in self.by_deviation()],
            "unused_deviations": self.unused_deviations,
            "spec_hash": self.spec_hash,
            "stale_files": [str(s.path) for s in self.stale_files],
            "images": [str(p) for p in self.images],
            "exit_code": self.exit_code,
        }

    def render(self, verbose: bool = False) -> str:
        """The report as text; `verbose` lists each known disagreement, not only their count."""
        return "\n".join(_render(self, verbose)) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    d = finding.disagreement
    return {
        "vector_id": d.vector_id,
        "file": str(finding.file),
        "category": d.category,
        "field": d.field,
        "expected": d.expected,
        "observed": d.observed,
        "mask": d.mask,
        "flags": list(d.flags),
        "known": finding.deviation is not None,
        "deviation": finding.deviation.id if finding.deviation else None,
    }


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], text_columns: int = 1) -> list[str]:
    """The first ``text_columns`` columns left-aligned, the numbers after them right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i < text_columns else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _count_row(name: str, c: CategoryCounts) -> list[str]:
    return [name, str(c.vectors), str(c.agree), str(c.disagree), str(c.known), f"{c.agreement:.1f}%",
            f"{c.judged:.1f}%"]


def _finding_line(finding: Finding) -> str:
    d = finding.disagreement
    mask = f"  mask {d.mask}" if d.mask is not None else ""
    line = f"  {d.vector_id}  {d.field}: expected {d.expected}, observed {d.observed}{mask}"
    if finding.deviation is not None:
        line += f"  [deviation {finding.deviation.id}]"
    return line


def _render(report: ConformReport, verbose: bool) -> list[str]:
    vectors = sum(s.count for s in report.files)
    hashes = sorted({s.spec_hash[:16] for s in report.files})
    lines = [f"{vectors} vector(s) from {len(report.files)} file(s); spec hash {', '.join(hashes) or '-'}"]
    lines += [f"warning: {s.path} was generated from another text of the spec (hash {s.spec_hash[:16]}, "
              f"the spec's is {report.spec_hash[:16]}): generate it again to test the spec as it is"
              for s in report.stale_files]
    lines.append("")
    header = ["category", "vectors", "agree", "disagree", "known", "agreement%", "judged%"]
    rows = [_count_row(name, c) for name, c in sorted(report.categories.items())]
    lines += _table(header, [*rows, _count_row("total", report.total)])
    fields = report.by_field()
    if fields:
        lines += ["", "disagreements by field:"]
        rows = [[c, n, str(k + u), str(k), str(u)] for c, n, k, u in fields]
        lines += _table(["category", "field", "disagreements", "known", "unknown"], rows, text_columns=2)
    if report.unknown:  # each one is a finding to act on: always listed
        lines += ["", f"unknown disagreements ({len(report.unknown)}):"]
        lines += [_finding_line(f) for f in report.unknown]
    if report.known and verbose:
        lines += ["", f"known disagreements ({len(report.known)}):"]
        lines += [_finding_line(f) for f in report.known]
    elif report.known:  # explained by a deviation: counted, listed on request
        lines += ["", f"known disagreements: {len(report.known)} (`hypspec -v conform` lists each one)"]
    used = [(name, count) for name, count in report.by_deviation() if count]
    if used:
        lines += ["", "known disagreements by deviation:"]
        lines += _table(["deviation", "disagreements"], [[name, str(count)] for name, count in used])
    if report.unused_deviations:
        lines += ["", f"deviations that matched nothing: {', '.join(report.unused_deviations)}"]
    if report.images:
        lines += ["", f"images written: {', '.join(str(p) for p in report.images)}"]
    verdict = (
        f"FAIL: {len(report.unknown)} unknown disagreement(s)"
        if report.unknown
        else f"OK: every disagreement is known ({len(report.known)})"
        if report.known
        else "OK: all vectors agree"
    )
    return [*lines, "", verdict]


def junit_suites(report: ConformReport) -> list[Suite]:
    """`--junit`: a test per vector file, failed when one of its vectors disagrees with the spec
    in a way no deviation explains; the failure's text lists each such disagreement."""
    cases = []
    for summary in report.files:
        unknown = [f for f in report.unknown if f.file == summary.path]
        vectors = len({f.disagreement.vector_id for f in unknown})
        message = f"{len(unknown)} unknown disagreement(s) in {vectors} of {summary.count} vector(s)"
        cases.append(Case(str(summary.path), f"conform.{summary.category}",
                          failure=message if unknown else None,
                          details="\n".join([message, *(_finding_line(f) for f in unknown)])))
    return [Suite("conform", cases)]


Observation = Stage2Observation | TrapObservation | ScriptObservation


def _run(items: Sequence[LoadedVector], *, batch: int, jobs: int, meter: MeterFactory) -> list[Observation]:
    """Run the cases a few images at a time so a long run can show its progress: Stage 2, traps,
    scripts."""
    stage2 = [item.case for item in items if isinstance(item.case, Stage2Case)]
    traps = [item.case for item in items if isinstance(item.case, TrapCase)]
    scripts = [item.case for item in items if isinstance(item.case, ScriptCase)]
    step = batch * jobs
    seen: dict[str, Observation] = {}
    try:
        with meter("conform: vectors run", len(items)) as run_meter:  # closed before Ctrl-C's message
            for cases, run in ((stage2, run_stage2), (traps, run_traps), (scripts, run_scripts)):
                for first in range(0, len(cases), step):
                    chunk = cases[first : first + step]
                    for observation in run(chunk, batch=batch, jobs=jobs):  # type: ignore[operator]
                        seen[observation.id] = observation
                    run_meter.advance(len(chunk))
    except KeyboardInterrupt as interrupt:
        raise Interrupted(f"{len(seen)} of {len(items)} vectors had run; no verdict on any") from interrupt
    return [seen[item.case.id] for item in items]


def conform(
    paths: Sequence[Path],
    *,
    emit_elf: Path | None = None,
    jobs: int = DEFAULT_JOBS,
    deviations: Path = DEFAULT_DEVIATIONS,
    batch: int = DEFAULT_BATCH,
    progress: Callable[[str], None] | None = None,
    meter: MeterFactory = no_meter,
) -> ConformReport:
    """Run every vector of ``paths`` (files or directories of ``*.jsonl``) on QEMU and compare.

    Raises :class:`VectorFileError` for a malformed vector file, :class:`ConformanceInputError`
    for an invalid deviations file or an unrunnable vector (before anything runs),
    :class:`ToolchainMissingError` without QEMU/binutils, and :class:`HarnessRunError` or
    :class:`HarnessBuildError` when the harness itself fails.
    """
    if jobs < 1 or batch < 1:
        raise ConformanceInputError(f"jobs and batch must be at least 1 (got jobs={jobs}, batch={batch})")
    known = load_deviations(deviations)
    files, items = load_run(vector_files(paths), progress)
    if not items:
        # "all vectors agree" about no vectors would be a pass that checked nothing
        named = ", ".join(str(f.path) for f in files)
        raise ConformanceInputError(f"{named}: no vectors to run (the files hold none); nothing was run")
    find_toolchain()
    images = []
    if emit_elf is not None:
        # the images and manifests appear together, or (on an error or Ctrl-C) not at all
        with staged_directory(emit_elf) as scratch:
            images = [emit_elf / image.name for image in emit_images(items, scratch, batch=batch)]
    observations = _run(items, batch=batch, jobs=jobs, meter=meter)
    addresses = trap_addresses([item.case for item in items if isinstance(item.case, TrapCase)], batch)
    categories = {s.category: CategoryCounts() for s in files}
    findings: list[Finding] = []
    for item, observation in zip(items, observations, strict=True):
        if isinstance(observation, TrapObservation):
            address = addresses[item.case.id]
            disagreements = compare_trap(item.vector, observation, address, category=item.category)
        elif isinstance(observation, ScriptObservation) and "outcomes" in item.vector:
            assert isinstance(item.case, ScriptCase)
            disagreements = compare_outcomes(item.vector, item.case, observation, category=item.category)
        elif isinstance(observation, ScriptObservation):
            assert isinstance(item.case, ScriptCase)
            disagreements = compare_script(item.vector, item.case, observation, category=item.category)
            disagreements += check_window(item, observation)
        else:
            disagreements = compare(item.vector, observation, category=item.category)
        found = [Finding(d, item.file, match_deviation(d, known)) for d in disagreements]
        categories[item.category].add(found)
        findings += found
    from hypspec.api import spec_hash

    return ConformReport(files, categories, findings, known, images, spec_hash())
