"""Run script cases on QEMU and turn the harness's report lines into observations.

The harness prints, on the PL011 (QEMU's stdout), exactly::

    HYPSPEC-SCRIPT <count>
    R <index> <code> <step> <a> <b> <c> <d> <e> <nwords>[ <word>]...
    ...                                      (one R line per vector, indices 0, 1, ...)
    DONE <count>

in lowercase hex, ``<count>`` eight digits and every field of an ``R`` line without leading zeros
(one to eight digits: every character costs a UART access, the main cost of a run).  The
``<word>`` s are the
vector's results buffer, in the order the harness filled it: for each segment
(:func:`hypspec.categories.script.case.segments`) that ran, CNTPCT before it (two words, low
then high) if it is timed, one word per 32-bit read and two (low, high) per 64-bit read, and
CNTPCT after it if it is timed.  By ``<code>``:

====  =======================================================================================
code  meaning
====  =======================================================================================
0     every step ran (``step`` = the number of the vector's own steps)
1     an exception from the guest was taken to Hyp mode at step ``step`` (``0x80000000 + k``:
      step k of the prelude, :data:`hypspec.categories.script.case.PRELUDE_FIRST`): a = HSR,
      b = ELR_hyp, c = SPSR_hyp
2     the guest's PL1 vector ``a`` ran at step ``step``: b = LR and c = SPSR of its mode,
      d/e = IFSR/IFAR (Prefetch Abort) or DFSR/DFAR (Data Abort)
3     an exception was taken in Hyp mode while Hyp step ``step`` ran: a = the Hyp vector,
      b = HSR, c = ELR_hyp, d = HDFAR, e = SPSR_hyp
====  =======================================================================================

A fault in Hyp mode outside a Hyp step prints ``F <index> <vector:1> <hsr> <hdfar> <hifar>
<elr> <spsr>``: a harness bug, raised as :class:`HarnessRunError`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from hypspec.categories.script.case import (
    PRELUDE_FIRST,
    ScriptCase,
    ScriptObservation,
    encodings,
    segments,
    validate,
)
from hypspec.categories.script.image import (
    CODE_HYP,
    CODE_OK,
    CODE_TRAP,
    CODE_VECTOR,
    HYP_VECTOR_NAMES,
    lower_scripts,
)
from hypspec.conformance import image_runner
from hypspec.conformance.assembly import GUEST_VECTOR_NAMES
from hypspec.conformance.defaults import DEFAULT_BATCH, DEFAULT_JOBS
from hypspec.conformance.errors import HarnessRunError
from hypspec.conformance.image_runner import (
    Harness,
    ImageOutput,
    run_and_decode,
    run_batches,
)
from hypspec.conformance.toolchain import Toolchain

#: Image watchdog: QEMU start-up plus a generous allowance per vector (a vector takes well
#: under a millisecond); only reached if the harness itself wedges.
BOOT_SECONDS = 20.0
PER_CASE_SECONDS = 0.05

MODE_NAMES = {0x10: "usr", 0x11: "fiq", 0x12: "irq", 0x13: "svc", 0x17: "abt", 0x1B: "und", 0x1A: "hyp"}

_HEX = "(0|[1-9a-f][0-9a-f]{0,7})"
_REPORT = re.compile(rf"R {_HEX} ([0-3])" + rf" {_HEX}" * 7 + r"((?: (?:0|[1-9a-f][0-9a-f]{0,7}))*)")


@dataclass(frozen=True)
class RawReport:
    """One ``R`` line, fields as printed."""

    index: int
    code: int
    step: int
    a: int
    b: int
    c: int
    d: int
    e: int
    words: tuple[int, ...]


def _parse_report(line: str) -> RawReport | None:
    match = _REPORT.fullmatch(line)
    if match is None:
        return None
    groups = match.groups()
    fields = [int(group, 16) for group in groups[:-1]]
    words = tuple(int(word, 16) for word in groups[-1].split())
    if len(words) != fields[-1]:
        return None  # nwords disagrees with the words printed: not a line of this harness
    return RawReport(*fields[:-1], words=words)


HARNESS = Harness("HYPSPEC-SCRIPT", "the script harness", _parse_report)


def parse_output(text: str, count: int, *, truncated: bool = False) -> ImageOutput[RawReport]:
    """Parse the harness's stdout strictly.  ``truncated``: QEMU was killed mid-line."""
    return image_runner.parse_output(text, count, HARNESS, truncated=truncated)


# --- Decoding a report into an observation -------------------------------------------------------


def _mode(cpsr: int) -> str:
    return MODE_NAMES.get(cpsr & 0x1F, f"mode {cpsr & 0x1F:#04x}")


def _stop_detail(case: ScriptCase, report: RawReport) -> str:
    if report.step >= PRELUDE_FIRST:
        where = f"at prelude step {report.step - PRELUDE_FIRST}"
        step = case.prelude[report.step - PRELUDE_FIRST]
    else:
        where = f"at step {report.step}"
        step = case.steps[report.step]
    where += f" ({step.el} {step.op} {step.sysreg or f'{step.address:#010x}'})"
    if report.code == CODE_TRAP:
        return (
            f"exception EC={report.a >> 26:#04x} {where}: HSR={report.a:#010x} "
            f"ELR_hyp={report.b:#010x} from {_mode(report.c)}"
        )
    if report.code == CODE_VECTOR:
        name = GUEST_VECTOR_NAMES[report.a & 7]
        detail = f"exception {name} taken at PL1 {where}: LR={report.b:#010x} SPSR={report.c:#010x}"
        if name == "prefetch_abort":
            detail += f" IFSR={report.d:#010x} IFAR={report.e:#010x}"
        elif name == "data_abort":
            detail += f" DFSR={report.d:#010x} DFAR={report.e:#010x}"
        return detail
    name = HYP_VECTOR_NAMES[report.a & 7]
    return (
        f"exception {name} taken in Hyp mode {where}: HSR={report.b:#010x} EC={report.b >> 26:#04x} "
        f"ELR_hyp={report.c:#010x} HDFAR={report.d:#010x}"
    )


def _decode_words(case: ScriptCase, report: RawReport) -> tuple[dict[int, int], dict[int, tuple[int, int]]]:
    """Read values and count bounds from the results words, for the steps that ran."""
    words: Iterator[int] = iter(report.words)
    table = encodings()
    reads: dict[int, int] = {}
    bounds: dict[int, tuple[int, int]] = {}
    # Positions in the order the harness runs the steps: the prelude's, then the vector's own.
    start = len(case.prelude)
    stop = None if report.code == CODE_OK else _position(case, report.step)  # where it stopped
    consumed = 0

    def take(n: int) -> int:
        nonlocal consumed
        value = 0
        for shift in range(n):
            value |= next(words) << (32 * shift)
        consumed += n
        return value

    try:
        for segment in segments(case):
            first = 0 if segment.shared else start + segment.first
            if stop is not None and first > stop:
                break
            before = take(2) if segment.timed else 0
            complete = True
            for offset, step in enumerate(segment.steps):
                if stop is not None and first + offset >= stop:
                    complete = False
                    break
                if step.op == "read":
                    wide = step.target == "sysreg" and table[step.sysreg].is64
                    value = take(2 if wide else 1)
                    if not segment.shared:  # a prelude's reads are not compared
                        reads[segment.first + offset] = value
            if complete and segment.timed:
                after = take(2)
                for offset in range(len(segment.steps)):
                    bounds[segment.first + offset] = (before, after)
    except StopIteration:
        raise HarnessRunError(
            f"vector {case.id!r}: the harness stored {len(report.words)} result words, fewer than "
            f"the steps it ran need"
        ) from None
    if consumed != len(report.words):
        raise HarnessRunError(
            f"vector {case.id!r}: the harness stored {len(report.words)} result words, the steps it "
            f"ran need {consumed}"
        )
    return reads, bounds


def _position(case: ScriptCase, step: int) -> int:
    """The position in run order (the prelude's steps first) of a step index the harness reports."""
    return step - PRELUDE_FIRST if step >= PRELUDE_FIRST else len(case.prelude) + step


def decode_report(case: ScriptCase, report: RawReport) -> ScriptObservation:
    """The observation for ``case`` from its report line."""
    if report.code not in (CODE_OK, CODE_TRAP, CODE_VECTOR, CODE_HYP):
        raise HarnessRunError(f"vector {case.id!r}: report code {report.code} is not one the harness prints")
    if report.code == CODE_OK and report.step != len(case.steps):
        raise HarnessRunError(
            f"vector {case.id!r}: the harness says it ran {report.step} steps, "
            f"the vector has {len(case.steps)}"
        )
    in_prelude = report.step >= PRELUDE_FIRST
    if report.code != CODE_OK and (
        report.step - PRELUDE_FIRST >= len(case.prelude) if in_prelude else report.step >= len(case.steps)
    ):
        raise HarnessRunError(
            f"vector {case.id!r}: stopped at step {report.step:#x}, past its {len(case.steps)} steps "
            f"(and {len(case.prelude)} prelude steps)"
        )
    reads, bounds = _decode_words(case, report)
    if report.code == CODE_OK:
        return ScriptObservation(case.id, "ok", reads, bounds)
    return ScriptObservation(
        case.id,
        "exception",
        reads,
        bounds,
        stopped_at=None if in_prelude else report.step,
        detail=_stop_detail(case, report),
        prelude_step=report.step - PRELUDE_FIRST if in_prelude else None,
        syndrome=report.a if report.code == CODE_TRAP else None,
    )


# --- Running images ------------------------------------------------------------------------------


def image_timeout(count: int) -> float:
    """Seconds after which a QEMU run is killed, and the run is a harness failure."""
    return BOOT_SECONDS + count * PER_CASE_SECONDS


def run_image(
    cases: Sequence[ScriptCase], *, toolchain: Toolchain, timeout: float | None = None
) -> list[ScriptObservation]:
    """Build one image for ``cases``, run it once, and decode every report."""
    limit = timeout if timeout is not None else image_timeout(len(cases))
    return run_and_decode(
        cases,
        lower_scripts(cases),
        HARNESS,
        toolchain=toolchain,
        limit=limit,
        name="script",
        decode=decode_report,
    )


def run_scripts(
    cases: Sequence[ScriptCase],
    *,
    batch: int = DEFAULT_BATCH,
    timeout: float | None = None,
    jobs: int = DEFAULT_JOBS,
) -> list[ScriptObservation]:
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
        what="script",
        run_chunk=lambda chunk, tools: run_image(chunk, toolchain=tools, timeout=timeout),
    )


@dataclass(frozen=True)
class ScriptThroughput:
    vectors: int
    steps: int
    seconds: float

    @property
    def vectors_per_second(self) -> float:
        return self.vectors / self.seconds if self.seconds else float("inf")

    def __str__(self) -> str:
        return (
            f"{self.vectors} script vectors ({self.steps} steps) in {self.seconds:.2f} s = "
            f"{self.vectors_per_second:.0f} vectors/s"
        )


def time_scripts(
    cases: Sequence[ScriptCase], *, batch: int = DEFAULT_BATCH, jobs: int = DEFAULT_JOBS
) -> ScriptThroughput:
    """Time :func:`run_scripts` end to end (validation, lowering, as, ld, QEMU, parsing)."""
    start = time.perf_counter()
    run_scripts(cases, batch=batch, jobs=jobs)
    seconds = time.perf_counter() - start
    return ScriptThroughput(len(cases), sum(len(c.prelude) + len(c.steps) for c in cases), seconds)
