"""Run Stage-2 cases on QEMU and turn the harness's report lines into observations.

One image holds up to ``batch`` cases; images are built and run ``jobs`` at a time.  The harness
prints, on the PL011 (QEMU's stdout), exactly::

    HYPSPEC-S2 <count>
    R <index> <code> <hsr> <hdfar> <hifar> <hpfar> <value> <wlo> <whi> <parlo> <parhi>
    ...                                              (one R line per case, indices 0, 1, ...)
    DONE <count>

in lowercase hex, ``<code>`` one digit and every other field eight.  ``parlo``/``parhi`` are the
64-bit PAR after the ATS12NSOPR/ATS12NSOPW the harness runs before a read/write (zero for a
fetch), or ``ffffffff <hsr>`` if that ATS itself took a Data Abort in Hyp (an external abort on
its table walk).  The other fields depend on ``<code>``; a field not listed is 0 or stale:

====  =====================  ===============================================================
code  outcome                fields
====  =====================  ===============================================================
0     ok                     hsr (the HVC: imm 0 from a snippet, the case's own for a fetch);
                             value = Rt after a load, ELR_hyp after a write or fetch
1     ok (write)             as 0, and wlo/whi = the doubleword at PA & ~7 read back by Hyp
2     hyp_abort              hsr, hdfar, hifar, hpfar as read in Hyp; value = ELR_hyp
3     guest_exception        hsr = ``hvc #0xE0+n`` from guest PL1 vector n; value = the
                             guest's LR there; wlo/whi = IFSR/IFAR (n=3) or DFSR/DFAR (n=4)
4     guest_exception        another trap to Hyp: hsr, hdfar, hifar, hpfar; value = ELR_hyp
5     no_report              the in-guest watchdog fired: value = ELR_hyp, wlo = GICC_IAR
6     no_report              refused: the PAR says the access would hit a device or the harness
====  =====================  ===============================================================

A fault in Hyp mode itself prints ``F <index> <vector:1> <hsr> <hdfar> <hifar> <elr> <spsr>``.
Any other line is a harness bug and raises :class:`HarnessRunError`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from hypspec.categories.stage2.case import Stage2Case, Stage2Observation
from hypspec.categories.stage2.image import (
    CODE_GUEST_EXCEPTION,
    CODE_HYP_ABORT,
    CODE_OK,
    CODE_OK_WORD,
    CODE_OTHER_TRAP,
    CODE_REFUSED,
    CODE_TIMEOUT,
    DEFAULT_WATCHDOG_SHIFT,
    lower_stage2,
)
from hypspec.conformance import image_runner
from hypspec.conformance.assembly import GUEST_VECTOR_HVC, GUEST_VECTOR_NAMES
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_JOBS
from hypspec.conformance.errors import HarnessRunError
from hypspec.conformance.image_runner import (
    Harness,
    ImageOutput,
    run_and_decode,
    run_batches,
)
from hypspec.conformance.layout import GUEST_STUB_IPA, RAM_END, SCRATCH_BASE, validate
from hypspec.conformance.toolchain import Toolchain

#: Image watchdog: QEMU start-up allowance plus, per case, the in-guest watchdog period and a
#: margin.  Only reached if the harness itself wedges; a wandering guest is stopped in-guest.
BOOT_SECONDS = 20.0
PER_CASE_MARGIN_SECONDS = 0.05

_HEX8 = "([0-9a-f]{8})"
_REPORT = re.compile(rf"R {_HEX8} ([0-9a-f])" + rf" {_HEX8}" * 9)
#: The guest's PL1 vector table sits at the start of the stub (VBAR = GUEST_STUB_IPA).
_GUEST_VECTOR_IPAS = range(GUEST_STUB_IPA, GUEST_STUB_IPA + 4 * len(GUEST_VECTOR_NAMES), 4)


@dataclass(frozen=True)
class RawReport:
    """One ``R`` line, fields as printed."""

    index: int
    code: int
    hsr: int
    hdfar: int
    hifar: int
    hpfar: int
    value: int
    wlo: int
    whi: int
    parlo: int
    parhi: int

    @property
    def par(self) -> int:
        return self.parhi << 32 | self.parlo


def _parse_report(line: str) -> RawReport | None:
    match = _REPORT.fullmatch(line)
    return None if match is None else RawReport(*(int(group, 16) for group in match.groups()))


HARNESS = Harness("HYPSPEC-S2", "the Stage-2 harness", _parse_report)


def parse_output(text: str, count: int, *, truncated: bool = False) -> ImageOutput[RawReport]:
    """Parse the harness's stdout strictly.  ``truncated``: QEMU was killed mid-line."""
    return image_runner.parse_output(text, count, HARNESS, truncated=truncated)


# --- Decoding a report into an observation -------------------------------------------------------


#: ``parlo`` when the pre-access ATS itself took a Data Abort in Hyp (then ``parhi`` = its HSR).
ATS_ABORTED = 0xFFFF_FFFF


def _par_text(report: RawReport) -> str:
    if report.parlo == ATS_ABORTED:
        return f"ats_abort_hsr={report.parhi:#010x}"
    return f"par={report.par:#018x}"


def _par_pa(report: RawReport, ipa: int) -> int | None:
    """The PA the pre-access ATS returned, or None if it faulted (PAR.F) or aborted."""
    if report.parlo & 1:
        return None
    return (report.par & 0xFF_FFFF_F000) | (ipa & 0xFFF)


def _decode_ok(case: Stage2Case, report: RawReport) -> Stage2Observation:
    if case.access == "read":
        return Stage2Observation(
            case.id, "ok", hsr=report.hsr, value=report.value, detail=_par_text(report)
        )
    if case.access == "fetch":
        return Stage2Observation(
            case.id,
            "ok",
            hsr=report.hsr,
            detail=f"hvc #{report.hsr & 0xFFFF:#x} returned to elr={report.value:#010x}",
        )
    if report.code == CODE_OK_WORD:
        return Stage2Observation(
            case.id,
            "ok",
            hsr=report.hsr,
            word_after=report.whi << 32 | report.wlo,
            detail=_par_text(report),
        )
    pa = _par_pa(report, case.ipa)
    if pa is None:
        why = "ATS12NSOPW faulted but the store completed"
    elif pa >= 1 << 32:
        why = f"PA {pa:#x} is above 4 GiB, which Hyp cannot read with its MMU off"
    elif not SCRATCH_BASE <= pa < RAM_END:
        why = f"PA {pa:#x} is not RAM the harness may read back"
    else:
        why = "the harness did not read the word back"
    return Stage2Observation(
        case.id, "ok", hsr=report.hsr, detail=f"word_after unknown: {why}; {_par_text(report)}"
    )


def _decode_guest_exception(case: Stage2Case, report: RawReport) -> Stage2Observation:
    vector = (report.hsr & 0xFFFF) - GUEST_VECTOR_HVC
    name = GUEST_VECTOR_NAMES[vector]
    detail = f"{name} lr={report.value:#010x}"
    if name == "prefetch_abort":
        detail += f" ifsr={report.wlo:#010x} ifar={report.whi:#010x}"
    elif name == "data_abort":
        detail += f" dfsr={report.wlo:#010x} dfar={report.whi:#010x}"
    if case.access != "fetch":
        detail += f" {_par_text(report)}"
    return Stage2Observation(case.id, "guest_exception", detail=detail)


def decode_report(case: Stage2Case, report: RawReport) -> Stage2Observation:
    """The observation for ``case`` from its report line."""
    code = report.code
    if code in (CODE_OK, CODE_OK_WORD):
        return _decode_ok(case, report)
    if code == CODE_HYP_ABORT:
        kind = "prefetch abort" if report.hsr >> 26 == 0x20 else "data abort"
        detail = f"stage 2 {kind} at elr={report.value:#010x}"
        if kind == "prefetch abort" and report.value in _GUEST_VECTOR_IPAS:
            vector = GUEST_VECTOR_NAMES[(report.value - GUEST_STUB_IPA) // 4]
            detail += (
                f" (fetching the guest's {vector} vector: the access raised a PL1 exception "
                "and this fetch case does not map the harness stub)"
            )
        if case.access != "fetch":
            detail += f" {_par_text(report)}"
        return Stage2Observation(
            case.id,
            "hyp_abort",
            hsr=report.hsr,
            hdfar=report.hdfar,
            hifar=report.hifar,
            hpfar=report.hpfar,
            detail=detail,
        )
    if code == CODE_GUEST_EXCEPTION:
        return _decode_guest_exception(case, report)
    if code == CODE_OTHER_TRAP:
        return Stage2Observation(
            case.id,
            "guest_exception",
            hsr=report.hsr,
            detail=f"hyp_trap ec={report.hsr >> 26:#04x} elr={report.value:#010x}",
        )
    if code == CODE_TIMEOUT:
        return Stage2Observation(
            case.id,
            "no_report",
            detail=f"watchdog: the guest did not trap in time (elr={report.value:#010x})",
        )
    if code == CODE_REFUSED:
        pa = _par_pa(report, case.ipa)
        return Stage2Observation(
            case.id,
            "no_report",
            detail=(
                f"refused: the access translates to PA {pa:#x}, inside the harness or device "
                f"memory, so it was not run; {_par_text(report)}"
            ),
        )
    raise HarnessRunError(f"case {case.id!r}: report code {code} is not one the harness prints")


# --- Running images ------------------------------------------------------------------------------


def image_timeout(count: int, watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT) -> float:
    """Seconds after which a QEMU run is killed, and the run is a harness failure."""
    return BOOT_SECONDS + count * (1.0 / (1 << watchdog_shift) + PER_CASE_MARGIN_SECONDS)


def run_image(
    cases: Sequence[Stage2Case],
    *,
    toolchain: Toolchain,
    timeout: float | None = None,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
) -> list[Stage2Observation]:
    """Build one image for ``cases``, run it once, and decode every report."""
    limit = timeout if timeout is not None else image_timeout(len(cases), watchdog_shift)
    source = lower_stage2(cases, watchdog_shift=watchdog_shift)
    return run_and_decode(
        cases,
        source,
        HARNESS,
        toolchain=toolchain,
        limit=limit,
        name="stage2",
        decode=decode_report,
    )

def run_stage2(
    cases: Sequence[Stage2Case],
    *,
    batch: int = DEFAULT_BATCH,
    timeout: float | None = None,
    jobs: int = DEFAULT_JOBS,
    watchdog_shift: int = DEFAULT_WATCHDOG_SHIFT,
) -> list[Stage2Observation]:
    """Run every case on QEMU; return one observation per case, in the order of ``cases``.

    ``timeout`` is per image (default :func:`image_timeout`); ``jobs`` images run at once.
    Raises :class:`ConformanceInputError` for a case the harness cannot run, before running
    anything, and :class:`ToolchainMissingError` if QEMU or binutils are not installed.
    """
    return run_batches(
        cases,
        batch=batch,
        jobs=jobs,
        validate=validate,
        what="Stage-2",
        run_chunk=lambda chunk, tools: run_image(
            chunk, toolchain=tools, timeout=timeout, watchdog_shift=watchdog_shift
        ),
    )
