"""Lowering: a list of :class:`TrapCase` -> the assembly source of one bare-metal image.

The image is the static Hyp harness (``harness/trap_harness.s``, which explains the life of a
case) plus three generated parts: ``.equ`` constants (memory map, record layout, report codes),
one guest snippet per distinct (instruction, mode) in section ``.guest``, and the case table.

Guest memory map (physical = guest virtual = guest intermediate physical: HCR.VM = 0 and the
guest's MMU is off):

* ``GUEST_BASE`` (:data:`GUEST_VECTORS`): the guest's PL1 vector table; entry n is
  ``hvc #(0xE0 + n)``.
* ``GUEST_BASE + SNIPPET_OFFSET + 16 * k``: snippet k, ``sev; wfe`` (the guest prologue), then
  ``.word <instruction>``, then the report instruction, ``hvc #REPORT_IMM`` for an SVC-mode case
  or ``svc #REPORT_IMM`` for a User-mode one (HVC is UNDEFINED at PL0; the guest's SVC vector
  forwards the report to Hyp with its own HVC).  The harness's exception return enters at the
  prologue: that return sets the Event Register (ARMv8 ``SendEventLocal()``), and ``sev; wfe``
  leave it clear (the WFE consumes the event without waiting, so nothing traps), so the
  instruction under test always runs with the Event Register clear, as the vectors' state says.

The images reuse the Stage-2 linker script and toolchain helpers (:mod:`toolchain`): Hyp code at
``HARNESS_BASE``, guest code at ``GUEST_BASE``, case records at ``CASES_BASE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hypspec.categories.traps.case import (
    GUEST_CPSR,
    REGISTER_NAMES,
    TrapCase,
    effective_registers,
    initial_gprs,
    is_wait,
    validate,
)
from hypspec.conformance import assembly, layout
from hypspec.conformance.assembly import GUEST_VECTOR_HVC, comment_safe, equ
from hypspec.conformance.toolchain import emit_batches

# --- Formats shared with the harness and with the report parser ---------------------------------

#: The case record, one 32-bit word per field, in this order (then r0..r12).
RECORD_FIELDS = ("ENTRY", "SPSR", "FLAGS", *REGISTER_NAMES)
RECORD_WORDS = len(RECORD_FIELDS) + 13
FLAG_HDCR = 1 << 0  # the case sets HDCR (else the boot value is kept)
FLAG_WAIT = 1 << 1  # WFI/WFE: use the short watchdog budget

#: Fields of the report after index, code and tries, in print order.
REPORT_FIELDS = ("code", "hsr", "elr", "spsr", "vec", "glr", "gspsr", "fsr", "far")

CODE_TRAP = 0  # an exception taken to Hyp that is not a guest vector's HVC
CODE_VECTOR = 1  # guest PL1 vector n reported itself (vec = n; glr/gspsr = LR/SPSR of its mode)
CODE_IRQ = 2  # the watchdog fired after the retries; elr = where the guest was, fsr = GICC_IAR

GUEST_VECTORS = layout.GUEST_BASE
SNIPPET_OFFSET = 0x40
SNIPPET_SIZE = 16
#: The guest prologue before each instruction under test: it clears the Event Register.
GUEST_PROLOGUE = ("sev", "wfe")
#: The report instruction's immediate (HVC imm16 / SVC imm24); the host identifies the report by
#: its address, so the value only helps a human reading HSRs.
REPORT_IMM = 0x5A5A

#: Watchdog budgets as CNTFRQ >> shift: a quarter second per case, about a millisecond for
#: WFI/WFE (an executed WFI sleeps until the watchdog wakes it, so this is its cost).  A watchdog
#: that fires before the instruction has completed (ELR_hyp = its address) reruns the case with
#: twice the budget, MAX_RETRIES times at most, so a short budget costs no wrong results.
DEFAULT_WATCHDOG_SHIFT = 2
DEFAULT_WAIT_SHIFT = 10
MAX_RETRIES = 3

IMAGE_MANIFEST_FORMAT = "hypspec-trap-image/1"


@dataclass(frozen=True)
class Snippet:
    """The guest code for one (instruction, mode): the prologue, the word, the report instruction."""

    index: int
    instruction: int
    mode: str

    @property
    def address(self) -> int:
        """Address of the instruction under test (the report instruction is 4 bytes later)."""
        return GUEST_VECTORS + SNIPPET_OFFSET + SNIPPET_SIZE * self.index + 4 * len(GUEST_PROLOGUE)

    def lines(self) -> list[str]:
        report = "hvc" if self.mode == "svc" else "svc"
        return [
            *(f"        {instruction}" for instruction in GUEST_PROLOGUE),
            f"        .word   {self.instruction:#010x}         @ [{self.index}] {self.mode}",
            f"        {report}     #{REPORT_IMM:#x}",
        ]


def assign_snippets(cases: Sequence[TrapCase]) -> list[Snippet]:
    """The snippet of each case, in case order (cases sharing instruction and mode share one)."""
    seen: dict[tuple[int, str], Snippet] = {}
    per_case = []
    for case in cases:
        key = (case.instruction, case.mode)
        if key not in seen:
            seen[key] = Snippet(len(seen), case.instruction, case.mode)
        per_case.append(seen[key])
    return per_case


def harness_source() -> str:
    """The static Hyp harness (after the shared prelude), shipped as package data."""
    return assembly.harness_source("trap_harness.s")


def _prologue(watchdog_shift: int, wait_shift: int) -> list[str]:
    lines = ["@ ---- generated by hypspec.categories.traps.image: constants ----------------------"]
    for name in ("UART_BASE", "GICD_BASE", "GICC_BASE", "HYP_TIMER_INTID"):
        lines.append(equ(name, getattr(layout, name)))
    lines.append("@ case record: one word per field, then r0..r12")
    for index, name in enumerate(RECORD_FIELDS):
        lines.append(equ(f"REC_{name}", 4 * index))
    lines.append(equ("REC_R0", 4 * len(RECORD_FIELDS)))
    lines.append(equ("REC_SIZE", 4 * RECORD_WORDS))
    lines.append(equ("FLAG_HDCR", FLAG_HDCR))
    lines.append(equ("FLAG_WAIT", FLAG_WAIT))
    lines.append("@ report fields (word offsets in `report`) and codes")
    for index, name in enumerate(REPORT_FIELDS):
        lines.append(equ(f"RPT_{name.upper()}", 4 * index))
    lines.append(equ("RPT_WORDS", len(REPORT_FIELDS)))
    lines.append(equ("CODE_TRAP", CODE_TRAP))
    lines.append(equ("CODE_VECTOR", CODE_VECTOR))
    lines.append(equ("CODE_IRQ", CODE_IRQ))
    lines.append(equ("GUEST_VECTOR_HVC", GUEST_VECTOR_HVC))
    lines.append(equ("WATCHDOG_SHIFT", watchdog_shift))
    lines.append(equ("WAIT_SHIFT", wait_shift))
    lines.append(equ("MAX_RETRIES", MAX_RETRIES))
    lines.append(equ("PROLOGUE_BYTES", 4 * len(GUEST_PROLOGUE)))
    return lines


def record_words(case: TrapCase, snippet: Snippet) -> list[int]:
    """The record of ``case`` as the harness reads it."""
    registers = effective_registers(case)
    flags = (FLAG_HDCR if registers["HDCR"] is not None else 0) | (
        FLAG_WAIT if is_wait(case.instruction) else 0
    )
    values = [registers[name] or 0 for name in REGISTER_NAMES]
    return [snippet.address, GUEST_CPSR[case.mode], flags, *values, *initial_gprs(case)]


def lower_traps(
    cases: Sequence[TrapCase],
    *,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
    wait_shift: int = DEFAULT_WAIT_SHIFT,
) -> str:
    """Assembly source of one image running ``cases`` in order (report index i is ``cases[i]``).

    Every case is validated first (:func:`hypspec.categories.traps.case.validate`).
    """
    for shift in (watchdog_shift, wait_shift):
        if not 0 <= shift <= 16:
            raise ValueError(f"watchdog shifts must be in 0..16, not {shift}")
    for case in cases:
        validate(case)
    per_case = assign_snippets(cases)
    out = _prologue(watchdog_shift, wait_shift)
    out.append("")
    out.append(harness_source())
    out.append("@ ---- generated: guest snippets --------------------------------------------------")
    out.append('        .section .guest, "ax"')
    out.append(f"        .org    {SNIPPET_OFFSET:#x}")
    snippets = sorted({s.index: s for s in per_case}.values(), key=lambda s: s.index)
    for snippet in snippets:
        out.extend(snippet.lines())
    out.append("")
    out.append("@ ---- generated: case table ------------------------------------------------------")
    out.append('        .section .cases, "a"')
    out.append("        .balign 4")
    out.append(f"case_count:  .word {len(cases)}")
    out.append("@ record: " + ", ".join(name.lower() for name in RECORD_FIELDS) + ", r0..r12")
    out.append("case_table:")
    for index, (case, snippet) in enumerate(zip(cases, per_case, strict=True)):
        words = record_words(case, snippet)
        out.append(f"@ [{index}] {comment_safe(case.id)}")
        for start in range(0, len(words), 8):
            out.append("        .word " + ", ".join(f"{w:#010x}" for w in words[start : start + 8]))
    out.append("")
    return "\n".join(out)


def emit_trap_elf(
    cases: Sequence[TrapCase],
    out_dir: Path,
    *,
    batch: int = 500,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
    wait_shift: int = DEFAULT_WAIT_SHIFT,
) -> list[Path]:
    """Write ``trap_NNN.{s,elf,json}`` per batch of ``cases`` to ``out_dir``; return the ELFs.

    The JSON manifest gives, per report index, the case id and the address of its instruction,
    plus the QEMU command, so an image can be rerun and its output decoded without the cases.
    """
    return emit_batches(
        cases,
        out_dir,
        batch=batch,
        prefix="trap",
        lower=lambda chunk: lower_traps(chunk, watchdog_shift=watchdog_shift, wait_shift=wait_shift),
        describe=lambda chunk: {
            "format": IMAGE_MANIFEST_FORMAT,
            "watchdog_shift": watchdog_shift,
            "wait_shift": wait_shift,
            "guest_vectors": GUEST_VECTORS,
            "cases": [
                {"id": case.id, "mode": case.mode, "address": snippet.address}
                for case, snippet in zip(chunk, assign_snippets(chunk), strict=True)
            ],
        },
    )
