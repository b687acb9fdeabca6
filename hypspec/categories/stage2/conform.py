"""The stage2 harness's part of ``hypspec conform``: a ``Model.Stage2GuestAccess`` vector as a
:class:`Stage2Case`, what it expects field by field, and the comparison with what QEMU did.

* the outcome: spec ``ok`` must be harness ``ok``, spec ``stage2_abort`` harness ``hyp_abort``;
* an ``ok`` read: ``expected.data`` against the loaded register (field ``data``);
* an ``ok`` write: the one doubleword in ``expected.memory`` against the word Hyp read back
  (field ``memory[<pa>]``);
* an ``ok`` fetch: the HVC immediate in HSR must be 2 (field ``fetched``), which proves the guest
  executed the ``hvc #2`` the spec placed at the translated PA;
* an abort: HSR, HDFAR, HIFAR and HPFAR from ``expected.registers``, each under
  ``masks[<reg>]`` (1 = compared; absent = all bits; ``0x0`` = not compared).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hypspec.categories.category import Harness, LoadedVector, each_item, vector_loader
from hypspec.categories.stage2.case import Stage2Case, Stage2Observation
from hypspec.categories.stage2.image import CODE_HYP_ABORT, CODE_OK, CODE_OK_WORD, emit_stage2_elf
from hypspec.categories.stage2.qemu import run_stage2
from hypspec.conformance.compare import (
    DOUBLEWORD,
    WORD,
    Check,
    Disagreement,
    checked,
    register_mask,
    same_vector,
    vector_error,
)
from hypspec.conformance.layout import RAM_END, SCRATCH_BASE, validate
from hypspec.conformance.manifest import add_expected

HVC_2 = 0xE140_0072  # ``hvc #2``: what the spec places at the PA of a successful fetch
HVC_IMM_MASK = 0xFFFF  # HSR.ISS[15:0] of an HVC trap: the immediate

ABORT_REGISTERS = ("HSR", "HDFAR", "HIFAR", "HPFAR")


#: The harness outcome each spec outcome must produce.
HARNESS_OUTCOME = {"ok": "ok", "stage2_abort": "hyp_abort"}



# --- Vector -> case ------------------------------------------------------------------------------


def _register(vector: dict[str, Any], name: str) -> int:
    registers = vector["state"]["registers"]
    if name not in registers:
        raise vector_error(
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
        raise vector_error(
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


def _write_check(vector: dict[str, Any]) -> Check:
    memory = vector["expected"]["memory"]
    if len(memory) != 1:
        raise vector_error(
            vector,
            f"an ok write must give exactly one word in expected.memory (the doubleword holding "
            f"the stored bytes, after the store); it gives {len(memory)}",
        )
    [(pa_text, word_text)] = memory.items()
    pa, word = int(pa_text, 16), int(word_text, 16)
    if pa % 8 or word > DOUBLEWORD:
        raise vector_error(
            vector, f"expected.memory {pa_text}: {word_text} is not an 8-aligned PA -> 64-bit word"
        )
    if not SCRATCH_BASE <= pa < RAM_END:
        raise vector_error(
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
            raise vector_error(
                vector,
                f"an ok fetch must find hvc #2 ({HVC_2:#x}) at the translated PA, but "
                f"expected.data is {data}; the harness only observes a fetch that ends in that HVC",
            )
        return [Check("fetched", 2, HVC_IMM_MASK, 4)]
    if "data" not in expected:
        raise vector_error(vector, "an ok read must give expected.data, the loaded register value")
    data = int(expected["data"], 16)
    if data > WORD:
        raise vector_error(vector, f"expected.data {expected['data']} is wider than a 32-bit register")
    return [Check("data", data, WORD, 8)]


def _abort_checks(vector: dict[str, Any]) -> list[Check]:
    registers = vector["expected"]["registers"]
    checks = []
    for name in ABORT_REGISTERS:
        mask = register_mask(vector, name)
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
    same_vector(vector, observation)
    flags = tuple(vector["flags"])
    outcome = vector["expected"]["outcome"]
    if observation.outcome != HARNESS_OUTCOME[outcome]:
        seen = _outcome_text(observation)
        return [Disagreement(vector["id"], category, "outcome", outcome, seen, flags)]
    found = []
    for check in expected_checks(vector):
        disagreement = checked(vector, category, check, _observed_value(check, observation), flags,
                                observation.detail)
        if disagreement is not None:
            found.append(disagreement)
    return found


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


def emit(items: Sequence[LoadedVector], out_dir: Path, batch: int) -> list[Path]:
    """``stage2_NNN.*`` images, each manifest with its cases' expected results."""
    elves = emit_stage2_elf([item.case for item in items], out_dir, batch=batch)
    add_expected(elves, items, batch, _HOW_TO_CHECK, manifest_entry, lambda manifest: manifest["cases"])
    return elves


#: One guest load, store or fetch under Stage 2 per case (:mod:`hypspec.categories.stage2.qemu`).
HARNESS = Harness(
    fields=("outcome", "data", "memory", "fetched", *ABORT_REGISTERS),
    loader=vector_loader(vector_to_case, validate, expected_checks),
    run=run_stage2,
    compare=each_item(lambda item, seen: compare(item.vector, seen, category=item.category)),
    emit=emit,
)
