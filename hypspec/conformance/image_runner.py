"""What the three harnesses share on the host side: build an image, run it on QEMU, parse its
report lines strictly, and spread batches of cases over a few QEMU processes.

Every harness prints, on the PL011 (QEMU's stdout)::

    <BANNER> <count>
    R <index> ...                       (one R line per case, indices 0, 1, ...)
    DONE <count>

in lowercase hex (count and index eight digits), or, if the harness itself faults in Hyp mode,
an ``F <index> <vector:1> <hsr> <hdfar> <hifar> <elr> <spsr>`` line and nothing after it.  What an
``R`` line holds is the harness's own business: each passes a parser for it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from hypspec.conformance.errors import ConformanceInputError, HarnessRunError
from hypspec.conformance.toolchain import Toolchain, build_elf, find_toolchain, qemu_command
from hypspec.interrupt import stop_pool

_HEX8 = "([0-9a-f]{8})"
_DONE = re.compile(rf"DONE {_HEX8}")
_FAULT = re.compile(rf"F {_HEX8} ([0-7])" + rf" {_HEX8}" * 5)


class Indexed(Protocol):
    @property
    def index(self) -> int: ...


R = TypeVar("R", bound=Indexed)
C = TypeVar("C")
O = TypeVar("O")  # noqa: E741


@dataclass(frozen=True)
class ImageOutput(Generic[R]):
    """Everything one QEMU run said, parsed."""

    reports: list[R]
    done: bool
    fault: str | None  # the F line, if the harness faulted


@dataclass(frozen=True)
class Harness(Generic[R]):
    """How to recognise one harness's output: its banner, its name in messages, its R lines."""

    banner: str  # e.g. "HYPSPEC-S2"
    name: str  # e.g. "the Stage-2 harness"
    parse_report: Callable[[str], R | None]  # None: not an R line of this harness


def parse_output(text: str, count: int, harness: Harness[R], *, truncated: bool = False) -> ImageOutput[R]:
    """Parse a harness's stdout strictly.  ``truncated``: QEMU was killed mid-line."""
    lines = text.split("\n")
    if lines and (lines[-1] == "" or truncated):
        lines.pop()  # the empty tail after the last newline, or the line a kill interrupted
    banner = re.compile(rf"{re.escape(harness.banner)} {_HEX8}")
    reports: list[R] = []
    done = False
    fault = None
    for number, raw_line in enumerate(lines, start=1):
        line = raw_line.rstrip("\r")
        if number == 1:
            match = banner.fullmatch(line)
            if match is None or int(match[1], 16) != count:
                raise HarnessRunError(
                    f"line 1 of the QEMU output is {line!r}, expected '{harness.banner} {count:08x}': "
                    f"the image did not start {harness.name}"
                )
            continue
        if done or fault is not None:
            raise HarnessRunError(f"output line {number} {line!r} follows the end of the run")
        report = harness.parse_report(line)
        if report is not None:
            if report.index != len(reports):
                raise HarnessRunError(
                    f"output line {number} {line!r} reports case {report.index}, expected case {len(reports)}"
                )
            reports.append(report)
        elif match := _DONE.fullmatch(line):
            if int(match[1], 16) != count or len(reports) != count:
                raise HarnessRunError(
                    f"output line {number} {line!r}: DONE after {len(reports)} of {count} cases"
                )
            done = True
        elif _FAULT.fullmatch(line):
            fault = line
        else:
            raise HarnessRunError(f"unparsable harness output line {number}: {line!r}")
    if not lines and not truncated:
        raise HarnessRunError("QEMU printed nothing: the image did not start")
    return ImageOutput(reports, done, fault)


class _Running:
    """The QEMU processes running now, so that a run that is over (Ctrl-C, or another batch's
    error) can end them rather than wait out each one's time limit."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.processes: set[subprocess.Popen[str]] = set()
        self.stopping = False

    def add(self, proc: subprocess.Popen[str]) -> None:
        with self.lock:
            self.processes.add(proc)
            if self.stopping:  # started by a batch that was already under way when the run ended
                proc.kill()

    def discard(self, proc: subprocess.Popen[str]) -> None:
        with self.lock:
            self.processes.discard(proc)

    def stop_all(self) -> None:
        with self.lock:
            self.stopping = True
            for proc in self.processes:
                proc.kill()


_RUNNING = _Running()


def run_qemu(argv: list[str], timeout: float) -> tuple[str, str, int | None]:
    """(stdout, stderr, returncode or None if killed at the timeout)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
    )
    _RUNNING.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return out, err, None
    finally:
        _RUNNING.discard(proc)
    return out, err, proc.returncode


def run_image(
    source: str,
    ids: Sequence[str],
    harness: Harness[R],
    *,
    toolchain: Toolchain,
    limit: float,
    name: str,
) -> ImageOutput[R]:
    """Assemble ``source`` (an image running the cases ``ids`` in order), run it once for at most
    ``limit`` seconds and parse its output.

    Raises :class:`HarnessRunError` if the harness faulted in Hyp mode, if QEMU ended without a
    clean exit after DONE, or if it did not end within ``limit`` seconds. A run that hangs is the
    harness's failure, not a verdict on its cases: its image is kept, and the error names it and
    the case it was on, so that it can be run again under a debugger.
    """
    with tempfile.TemporaryDirectory(prefix=f"hypspec-{name}-") as tmp:
        elf = build_elf(source, Path(tmp), name=name, toolchain=toolchain)
        out, err, returncode = run_qemu(qemu_command(toolchain, elf), limit)
        killed = returncode is None
        parsed = parse_output(out, len(ids), harness, truncated=killed)
        if killed and parsed.fault is None:
            kept = Path(tempfile.mkdtemp(prefix=f"hypspec-hung-{name}-")) / elf.name
            shutil.copyfile(elf, kept)
            index = len(parsed.reports)
            culprit = ids[index] if index < len(ids) else "<after the last case>"
            raise HarnessRunError(
                f"QEMU did not finish {harness.name} image {name!r} within {limit:g} s: it stopped "
                f"after {index} of {len(ids)} reports, in case {culprit!r}; the image is kept at {kept}"
            )
    if parsed.fault is not None:
        index = len(parsed.reports)
        culprit = ids[index] if index < len(ids) else "<after the last case>"
        raise HarnessRunError(
            f"{harness.name} faulted in Hyp mode while running case {culprit!r}: {parsed.fault} "
            "(fields: index, vector, HSR, HDFAR, HIFAR, ELR_hyp, SPSR_hyp)"
        )
    if not killed and (returncode != 0 or not parsed.done):
        raise HarnessRunError(
            f"QEMU exited with status {returncode} after {len(parsed.reports)} of {len(ids)} "
            f"reports, without DONE; stderr: {err.strip()[-2000:]!r}"
        )
    return parsed


def run_and_decode(
    cases: Sequence[C],
    source: str,
    harness: Harness[R],
    *,
    toolchain: Toolchain,
    limit: float,
    name: str,
    decode: Callable[[C, R], O],
) -> list[O]:
    """:func:`run_image` for ``cases`` (their ids in order), then each case's report decoded (a run
    that returns has reported every case)."""
    ids = [case.id for case in cases]  # type: ignore[attr-defined]
    parsed = run_image(source, ids, harness, toolchain=toolchain, limit=limit, name=name)
    return [decode(case, report) for case, report in zip(cases, parsed.reports, strict=True)]


def check_unique(cases: Sequence[C], validate: Callable[[C], None], what: str) -> None:
    """Validate every case and refuse a repeated id (cases have an ``id``)."""
    seen: set[str] = set()
    for case in cases:
        validate(case)
        case_id: str = case.id  # type: ignore[attr-defined]
        if case_id in seen:
            raise ConformanceInputError(f"{what} case id {case_id!r} is used more than once")
        seen.add(case_id)


def run_batches(
    cases: Sequence[C],
    *,
    batch: int,
    jobs: int,
    validate: Callable[[C], None],
    what: str,
    run_chunk: Callable[[Sequence[C], Toolchain], list[O]],
) -> list[O]:
    """Validate ``cases`` (all of them, before running any: :func:`check_unique`), then run them
    in images of ``batch`` cases, ``jobs`` QEMU processes at once; one result per case, in order.
    Raises :class:`ToolchainMissingError` if the tools are missing."""
    if batch < 1 or jobs < 1:
        raise ValueError(f"batch and jobs must be at least 1 (got batch={batch}, jobs={jobs})")
    check_unique(cases, validate, what)
    if not cases:
        return []
    tools = find_toolchain()
    chunks = [cases[start : start + batch] for start in range(0, len(cases), batch)]
    _RUNNING.stopping = False
    pool = ThreadPoolExecutor(max_workers=min(jobs, len(chunks)))
    try:
        results = list(pool.map(lambda chunk: run_chunk(chunk, tools), chunks))
    except BaseException:
        # Ctrl-C or a failed batch: the run is over, so the batches not started are dropped and
        # the QEMU processes in flight ended, rather than waited for as `with` would
        stop_pool(pool)
        _RUNNING.stop_all()
        raise
    pool.shutdown()
    return [result for chunk_result in results for result in chunk_result]


@dataclass(frozen=True)
class Throughput:
    """How fast a harness ran a batch of cases end to end, and the mix of outcomes it saw."""

    what: str  # "trap", "Stage-2", ...
    cases: int
    seconds: float
    outcomes: dict[str, int]

    @classmethod
    def of(cls, what: str, observations: Sequence[object], seconds: float) -> Throughput:
        outcomes: dict[str, int] = {}
        for observation in observations:
            outcome = observation.outcome  # type: ignore[attr-defined]
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return cls(what, len(observations), seconds, outcomes)

    @property
    def cases_per_second(self) -> float:
        return self.cases / self.seconds if self.seconds else float("inf")

    def __str__(self) -> str:
        mix = ", ".join(f"{name} {count}" for name, count in sorted(self.outcomes.items()))
        return (
            f"{self.cases} {self.what} cases in {self.seconds:.2f} s = "
            f"{self.cases_per_second:.0f} cases/s ({mix})"
        )
