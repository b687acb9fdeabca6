"""The trap harness's part of ``hypspec conform``: a ``Model.TrapDecision`` vector as a
:class:`TrapCase` (one guest instruction under a trap configuration, run by
:mod:`hypspec.categories.traps.qemu`), and what is compared, which is what the spec computes:

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
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypspec.categories.category import Harness, LoadedVector, vector_loader
from hypspec.categories.traps.case import GUEST_CPSR, HCR_FORCED, REGISTER_NAMES, TrapCase, TrapObservation
from hypspec.categories.traps.case import validate as validate_trap
from hypspec.categories.traps.image import assign_snippets, emit_trap_elf
from hypspec.categories.traps.qemu import run_traps
from hypspec.conformance.compare import (
    WORD,
    Check,
    Disagreement,
    checked,
    register_mask,
    same_vector,
    vector_error,
)
from hypspec.conformance.manifest import add_expected

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


#: Registers a trap vector's return address is compared in (see ``expected.return_address``).
RETURN_REGISTERS = ("ELR_hyp", "LR_und", "LR_svc", "LR_abt")



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
            raise vector_error(
                vector,
                f"state.registers has no {name}; the trap harness needs CPSR and {', '.join(REGISTER_NAMES)}",
            )
    if registers["CPSR"] != GUEST_CPSR[mode]:
        raise vector_error(
            vector,
            f"CPSR {registers['CPSR']:#x} is not {GUEST_CPSR[mode]:#x}, the CPSR the harness enters "
            f"{mode} mode with",
        )
    if registers["HCR"] & HCR_FORCED != HCR_FORCED:
        raise vector_error(
            vector,
            f"HCR {registers['HCR']:#x} lacks the bits the harness forces ({HCR_FORCED:#x}, HCR.IMO), "
            "so the spec would decide for another HCR than the one the instruction runs with",
        )
    if registers.get("PMUSERENR", 0):
        raise vector_error(vector, "PMUSERENR must be 0: the trap harness does not program it")
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
            raise vector_error(vector, "a hyp_trap must give expected.registers.HSR, the syndrome")
        mask = register_mask(vector, "HSR") & WORD
        if mask:
            checks.append(Check("HSR", int(expected["registers"]["HSR"], 16), mask, 8))
    returned = expected.get("return_address")
    if returned is not None:
        register = _RETURN_REGISTER.get(outcome)
        if returned["register"] != register:
            raise vector_error(
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
    same_vector(vector, observation)
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
        disagreement = checked(vector, category, check, _trap_observed(check, observation, address), flags)
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



# --- Images for a board --------------------------------------------------------------------------


_HOW_TO_CHECK_TRAPS = (
    "Run the 'qemu' command (or load the ELF on a board) and read the lines "
    "'R <index> <code> <tries> <hsr> <elr> <spsr> <vec> <glr> <gspsr> <fsr> <far> [rN=value]...' "
    "(see hypspec/categories/traps/qemu.py for how a line becomes an outcome). Case <index> agrees "
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


def emit(items: Sequence[LoadedVector], out_dir: Path, batch: int) -> list[Path]:
    """``trap_NNN.*`` images, each manifest with its cases' expected results."""
    cases = [item.case for item in items]
    elves = emit_trap_elf(cases, out_dir, batch=batch)
    addresses = trap_addresses(cases, batch)
    add_expected(elves, items, batch, _HOW_TO_CHECK_TRAPS,
                 lambda index, item: trap_manifest_entry(index, item, addresses[item.case.id]),
                 lambda manifest: [case["id"] for case in manifest["cases"]])
    return elves


def compare_all(
    items: Sequence[LoadedVector], observations: Sequence[Any], batch: int
) -> list[list[Disagreement]]:
    # return addresses are offsets from where the run, with this batch, placed each instruction
    addresses = trap_addresses([item.case for item in items], batch)
    return [
        compare_trap(item.vector, seen, addresses[item.case.id], category=item.category)
        for item, seen in zip(items, observations, strict=True)
    ]


#: One guest instruction under a trap configuration per case (:mod:`hypspec.categories.traps.qemu`).
HARNESS = Harness(
    fields=("outcome", "HSR", *RETURN_REGISTERS),
    loader=vector_loader(trap_vector_to_case, validate_trap, trap_checks),
    run=run_traps,
    compare=compare_all,
    emit=emit,
)
