"""Run trap cases on QEMU and turn the harness's report lines into observations.

The harness prints, on the PL011 (QEMU's stdout), exactly::

    HYPSPEC-TRAP <count>
    R <index> <code> <tries> <hsr> <elr> <spsr> <vec> <glr> <gspsr> <fsr> <far>[ r<n>=<value>]...
    ...                                          (one R line per case, indices 0, 1, ...)
    DONE <count>

in lowercase hex: ``<code>``, ``<tries>``, ``<vec>`` and ``<n>`` one digit, every other field
eight.  ``tries`` is how many times the watchdog fired before the instruction had completed and
the case was rerun with twice the budget.  The ``rN=value`` items list the guest registers
r0-r12 that differ from the case's initial values when the report was taken.  By ``code``:

====  =======================================================================================
code  fields
====  =======================================================================================
0     an exception taken to Hyp mode (HVBAR + 0x14) other than a guest vector's HVC:
      hsr = HSR, elr = ELR_hyp, spsr = SPSR_hyp (the guest's CPSR)
1     guest PL1 vector ``vec`` ran (its ``hvc #0xE0+vec``): hsr/elr/spsr of that HVC,
      glr/gspsr = LR and SPSR of the vector's mode, fsr/far = IFSR/IFAR (vec 3) or DFSR/DFAR
      (vec 4)
2     the watchdog IRQ: elr = ELR_hyp (where the guest was), spsr, fsr = GICC_IAR
====  =======================================================================================

A fault in Hyp mode itself prints ``F <index> <vector:1> <hsr> <hdfar> <hifar> <elr> <spsr>``.
Any other line is a harness bug and raises :class:`HarnessRunError`.

Classification (A = the address of the instruction under test, R = A + 4 the report
instruction; see :mod:`hypspec.categories.traps.image`):

* ``executed``: the report arrived: code 0 with EC 0x12 (HVC) and ELR = R + 4; code 0 with EC 0x11
  (a User-mode report SVC routed to Hyp by HCR.TGE) and ELR = R + 4; code 0 with EC 0x00 and
  ELR = R (the report instruction UNDEFINED and routed to Hyp by TGE); code 1 from the SVC
  vector with LR_svc = R + 4 (the User-mode report SVC); code 1 from the Undefined vector with
  LR_und = R + 4 (the instruction left the guest in User mode, where the report HVC is
  UNDEFINED); code 2 with ELR = R (a WFI that slept until the watchdog woke it).
* ``undefined``: code 1 from the Undefined vector with LR_und = A + 4; ``elr`` = LR_und.
* ``hyp_trap``: any other code 0; ``hsr``, ``elr`` = ELR_hyp.
* ``other``: any other guest vector (an SVC, BKPT, abort or virtual interrupt taken at PL1).
* ``no_report``: code 2 elsewhere (the in-guest watchdog fired away from a WFI). An image that
  never reports at all is killed at the image timeout, which is a harness failure, not a case.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from hypspec.categories.traps.case import (
    TrapCase,
    TrapObservation,
    initial_gprs,
    mixed_cases,
    validate,
)
from hypspec.categories.traps.image import (
    CODE_IRQ,
    CODE_TRAP,
    CODE_VECTOR,
    DEFAULT_WAIT_SHIFT,
    DEFAULT_WATCHDOG_SHIFT,
    MAX_RETRIES,
    assign_snippets,
    lower_traps,
)
from hypspec.conformance import image_runner
from hypspec.conformance.assembly import GUEST_VECTOR_NAMES
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_JOBS
from hypspec.conformance.errors import HarnessRunError
from hypspec.conformance.image_runner import (
    Harness,
    ImageOutput,
    Throughput,
    run_and_decode,
    run_batches,
)
from hypspec.conformance.toolchain import Toolchain

#: Image watchdog: QEMU start-up plus, per case, the worst in-guest watchdog (all retries).
BOOT_SECONDS = 20.0
PER_CASE_MARGIN_SECONDS = 0.05

EC_UNKNOWN = 0x00
EC_SVC = 0x11
EC_HVC = 0x12
MODE_NAMES = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x17: "abt", 0x1B: "und"}
MODE_NAMES.update({0x1A: "hyp", 0x1F: "sys", 0x16: "mon"})

_HEX8 = "([0-9a-f]{8})"
_REPORT = re.compile(
    rf"R {_HEX8} ([0-2]) ([0-9a-f])"
    + rf" {_HEX8}" * 3
    + " ([0-7])"
    + rf" {_HEX8}" * 4
    + r"((?: r[0-9a-c]=[0-9a-f]{8})*)"
)
_CHANGED = re.compile(r" r([0-9a-c])=([0-9a-f]{8})")


@dataclass(frozen=True)
class RawReport:
    """One ``R`` line, fields as printed; ``changed`` maps register number -> value."""

    index: int
    code: int
    tries: int
    hsr: int
    elr: int
    spsr: int
    vec: int
    glr: int
    gspsr: int
    fsr: int
    far: int
    changed: dict[int, int]


def _parse_report(line: str) -> RawReport | None:
    match = _REPORT.fullmatch(line)
    if match is None:
        return None
    groups = match.groups()
    fields = [int(group, 16) for group in groups[:-1]]
    changed = {int(n, 16): int(v, 16) for n, v in _CHANGED.findall(groups[-1])}
    return RawReport(*fields, changed=changed)


HARNESS = Harness("HYPSPEC-TRAP", "the trap harness", _parse_report)


def parse_output(text: str, count: int, *, truncated: bool = False) -> ImageOutput[RawReport]:
    """Parse the harness's stdout strictly.  ``truncated``: QEMU was killed mid-line."""
    return image_runner.parse_output(text, count, HARNESS, truncated=truncated)


# --- Decoding a report into an observation -------------------------------------------------------


def _mode(cpsr: int) -> str:
    return MODE_NAMES.get(cpsr & 0x1F, f"mode{cpsr & 0x1F:#04x}")


def _gprs_after(case: TrapCase, report: RawReport) -> dict[int, int]:
    values = dict(enumerate(initial_gprs(case)))
    values.update(report.changed)
    return values


def _executed(case: TrapCase, report: RawReport, how: str) -> TrapObservation:
    mode = _mode(report.spsr if report.code != CODE_VECTOR else report.gspsr)
    detail = how
    if mode != case.mode:
        detail += f"; the instruction left the guest in {mode} mode"
    if report.tries:
        detail += f"; watchdog reruns: {report.tries}"
    return TrapObservation(case.id, "executed", gprs_after=_gprs_after(case, report), detail=detail)


def _decode_trap(case: TrapCase, report: RawReport, address: int) -> TrapObservation:
    ec = report.hsr >> 26
    after = address + 4
    if ec == EC_HVC and report.elr == after + 4:
        return _executed(case, report, "report hvc reached Hyp")
    if ec == EC_SVC and report.elr == after + 4 and case.mode == "usr":
        return _executed(case, report, "report svc routed to Hyp (HCR.TGE)")
    if ec == EC_UNKNOWN and report.elr == after:
        return _executed(case, report, "report instruction UNDEFINED and routed to Hyp (HCR.TGE)")
    return TrapObservation(
        case.id,
        "hyp_trap",
        hsr=report.hsr,
        elr=report.elr,
        detail=f"ec={ec:#04x} from {_mode(report.spsr)} spsr={report.spsr:#010x}",
    )


def _decode_vector(case: TrapCase, report: RawReport, address: int) -> TrapObservation:
    name = GUEST_VECTOR_NAMES[report.vec]
    after = address + 4
    if name == "undefined_instruction" and report.glr == address + 4:
        return TrapObservation(
            case.id,
            "undefined",
            elr=report.glr,
            detail=f"guest undefined_instruction vector, spsr_und={report.gspsr:#010x}",
        )
    if name == "undefined_instruction" and report.glr == after + 4:
        return _executed(case, report, "the report hvc was UNDEFINED at PL0")
    if name == "supervisor_call" and report.glr == after + 4 and case.mode == "usr":
        return _executed(case, report, "report svc reached the guest SVC vector")
    detail = f"guest {name} vector: lr={report.glr:#010x} spsr={report.gspsr:#010x}"
    if name == "prefetch_abort":
        detail += f" ifsr={report.fsr:#010x} ifar={report.far:#010x}"
    elif name == "data_abort":
        detail += f" dfsr={report.fsr:#010x} dfar={report.far:#010x}"
    return TrapObservation(case.id, "other", detail=detail)


def decode_report(case: TrapCase, report: RawReport, address: int) -> TrapObservation:
    """The observation for ``case``, whose instruction is at ``address``, from its report."""
    if report.code == CODE_TRAP:
        return _decode_trap(case, report, address)
    if report.code == CODE_VECTOR:
        return _decode_vector(case, report, address)
    if report.code == CODE_IRQ:
        if report.elr == address + 4:
            return _executed(case, report, "completed, then the watchdog IRQ woke or stopped it")
        return TrapObservation(
            case.id,
            "no_report",
            detail=(
                f"watchdog: the guest did not report (elr={report.elr:#010x}, "
                f"spsr={report.spsr:#010x}, {report.tries} reruns)"
            ),
        )
    raise HarnessRunError(f"case {case.id!r}: report code {report.code} is not one the harness prints")


# --- Running images ------------------------------------------------------------------------------


def image_timeout(count: int, watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT) -> float:
    """Seconds after which a QEMU run is killed, and the run is a harness failure.

    Every case may use one full watchdog period (a genuine ``no_report``); a few may also be
    rerun MAX_RETRIES times with doubling budgets.
    """
    period = 1.0 / (1 << watchdog_shift)
    reruns = (2 ** (MAX_RETRIES + 1) - 2) * period
    return BOOT_SECONDS + count * (period + PER_CASE_MARGIN_SECONDS) + min(count, 4) * reruns


def run_image(
    cases: Sequence[TrapCase],
    *,
    toolchain: Toolchain,
    timeout: float | None = None,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
    wait_shift: int = DEFAULT_WAIT_SHIFT,
) -> list[TrapObservation]:
    """Build one image for ``cases``, run it once, and decode every report."""
    limit = timeout if timeout is not None else image_timeout(len(cases), watchdog_shift)
    source = lower_traps(cases, watchdog_shift=watchdog_shift, wait_shift=wait_shift)
    addresses = {
        case.id: snippet.address for case, snippet in zip(cases, assign_snippets(cases), strict=True)
    }
    return run_and_decode(
        cases,
        source,
        HARNESS,
        toolchain=toolchain,
        limit=limit,
        name="trap",
        decode=lambda case, report: decode_report(case, report, addresses[case.id]),
    )


def run_traps(
    cases: Sequence[TrapCase],
    *,
    batch: int = DEFAULT_BATCH,
    timeout: float | None = None,
    jobs: int = DEFAULT_JOBS,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
    wait_shift: int = DEFAULT_WAIT_SHIFT,
) -> list[TrapObservation]:
    """Run every case on QEMU; return one observation per case, in the order of ``cases``.

    ``timeout`` is per image (default :func:`image_timeout`); ``jobs`` images run at once.
    Raises :class:`ConformanceInputError` for a case the harness refuses (see
    :func:`hypspec.categories.traps.case.validate`) before running anything, and
    :class:`ToolchainMissingError` if QEMU or binutils are not installed.
    """
    return run_batches(
        cases,
        batch=batch,
        jobs=jobs,
        validate=validate,
        what="trap",
        run_chunk=lambda chunk, tools: run_image(
            chunk,
            toolchain=tools,
            timeout=timeout,
            watchdog_shift=watchdog_shift,
            wait_shift=wait_shift,
        ),
    )


def bench_traps(
    count: int = 1000, *, batch: int = DEFAULT_BATCH, jobs: int = DEFAULT_JOBS, seed: int = 0
) -> Throughput:
    """Time :func:`run_traps` end to end (lowering, as, ld, QEMU, parsing) on mixed cases."""
    cases = mixed_cases(count, seed)
    start = time.perf_counter()
    observations = run_traps(cases, batch=batch, jobs=jobs)
    seconds = time.perf_counter() - start
    return Throughput.of("trap", observations, seconds)
