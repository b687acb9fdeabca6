"""Script vectors: a sequence of register accesses, each made from a named mode (categories ``gic``
and ``timers``).

A script vector is ``{"id", "category", "kind", "steps": [...]}``.  Each :class:`Step` is one word
access to a memory-mapped register (``target = "mmio"``: a GIC frame of the virt board) or one
``MRC``/``MCR``/``MRRC``/``MCRR`` of a system register (``target = "sysreg"``: a generic-timer
register, named as in ``Model.SysReg`` without the ``SysReg_`` prefix), made from Hyp mode, from
a guest in SVC mode or from a guest in User mode.  A read may carry an :class:`Expect`: what the
spec says it returns, compared under a mask, or relative to the physical count for the counters
and timer values.

A vector means "the file's *prelude*, then its own steps".  The prelude is stored once per file,
in the meta record (``meta.prelude``, :func:`prelude_to_json`); the generators write
:func:`quiesce_steps` there, so that the spec and the implementation start every vector from one
defined state whatever the vector before it did.  A prelude is Hyp-mode steps without
expectations (:func:`check_prelude`).  :func:`run_script` is the oracle: from the reset state it
runs the prelude, then the steps, through the spec's ``Board.Read``/``Board.Write`` (MMIO) and
``Board.TimerRead``/``Board.TimerWrite`` (system registers: ``Timer.Read``/``Timer.Write`` after
the interrupt lines are brought up to date, spec/12-virt-board.md).

The name -> encoding table of system registers is not typed here: it is the inverse of the
spec's own decode, ``Model.CP15Reg`` and ``Model.CP15Reg64`` (spec/04-traps.md), evaluated over
every encoding once per spec (:func:`sysreg_encodings`).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hypspec.api import Spec, State

# --- The virt board's GIC frames (QEMU hw/arm/virt.c; spec/12-virt-board.md) -------------------

GICD_BASE = 0x0800_0000
GICC_BASE = 0x0801_0000
GICH_BASE = 0x0803_0000
GICV_BASE = 0x0804_0000
#: Frame sizes as the board maps them: 4 KiB distributor and GICH, 8 KiB CPU interfaces.
FRAMES = {
    "GICD": (GICD_BASE, 0x1000),
    "GICC": (GICC_BASE, 0x2000),
    "GICH": (GICH_BASE, 0x1000),
    "GICV": (GICV_BASE, 0x2000),
}
#: RAM a step may access by word (the tlb vectors' tables, data and guest addresses), by mode: from
#: Hyp mode (its MMU off: physical addresses) the table and data regions of the harness's memory
#: map (hypspec/conformance/layout.py), which no harness keeps anything in; from a guest (its MMU
#: off: IPAs, which stage 2 translates) the window of IPAs the tlb vectors map.
RAM_WINDOWS = {
    "hyp": {"TABLE": (0x4800_0000, 0x0400_0000), "DATA": (0x5000_0000, 0x1000_0000)},
    "guest": {"IPA": (0x8000_0000, 0x0040_0000)},
}


def ram_window(el: str, address: int) -> str | None:
    """The name of the RAM window (:data:`RAM_WINDOWS`) that holds ``address`` for a step from
    ``el``, or None."""
    windows = RAM_WINDOWS["hyp" if el == "hyp" else "guest"]
    return next((name for name, (base, size) in windows.items() if base <= address < base + size), None)


#: Interrupt lines: 288 interrupts (GICD_TYPER.ITLinesNumber = 8 on QEMU virt, -smp 1).
NUM_IRQS = 288
NUM_LRS = 4
CNTFRQ_HZ = 62_500_000
#: GICH_VMCR value the quiesce steps write: VMBP = 2, VMABP = 3, everything else 0 (the reset
#: value QEMU reports, so a vector that does not touch VMCR sees the reset state).
QUIESCE_VMCR = 0x004C_0000
#: CNTHCTL after quiesce: PL1PCTEN = PL1PCEN = 1 (PL1 may use the physical counter and timer).
QUIESCE_CNTHCTL = 0x3

MODES = ("hyp", "svc", "usr")
OPS = ("read", "write")
TARGETS = ("mmio", "sysreg")
WORD = 0xFFFF_FFFF


class ScriptError(ValueError):
    """A step names a register, address or mode the script runner does not know."""


@dataclass(frozen=True, slots=True)
class Expect:
    """What a read must return.

    Exact (``count_sign == 0``): a value ``v`` agrees iff ``(v & mask) == (value & mask)``.
    Counter-relative (``count_sign`` = +1 or -1): ``v`` agrees iff
    ``v == (count_sign * c + value) mod 2**width`` for some physical count ``c`` with
    ``before <= c <= after``, where the harness reads CNTPCT in Hyp mode right before and right
    after this step, or right before and after an earlier step that latches the count (a
    TimerValue write, ``CNTx_TVAL``: the compare value it sets is the count at the write plus the
    value; see hypspec.categories.script.case).  ``mask`` is ignored then.
    """

    value: int
    mask: int
    count_sign: int = 0
    width: int = 32


@dataclass(frozen=True, slots=True)
class Step:
    """One access.  ``address``: mmio physical address (word aligned), 0 for sysreg.  ``sysreg``:
    the ``Model.SysReg`` member without its prefix ("CNTV_CTL"), "" for mmio.  ``value``: what a
    write writes (64 bits for a 64-bit system register), 0 for a read.  ``expect``: for a read,
    what the spec says it returns (None: not compared); None for a write."""

    el: str
    op: str
    target: str
    address: int
    sysreg: str
    value: int
    expect: Expect | None


@dataclass(frozen=True, order=True)
class Stop:
    """Where a run of a script stopped (category tlb): a guest access took an exception to Hyp
    mode at ``step``; its HSR, and the bits of it the spec defines (not UNKNOWN)."""

    step: int
    hsr: int
    mask: int


@dataclass(frozen=True, order=True)
class Outcome:
    """One run of a script that a tlb vector allows (schema ``script_outcome``): the value of
    every read that ran, in step order, and where it stopped (None: every step ran)."""

    reads: tuple[int, ...]
    stop: Stop | None = None

    def to_json(self) -> dict[str, Any]:
        stop = None if self.stop is None else {
            "step": self.stop.step, "hsr": f"{self.stop.hsr:#x}", "mask": f"{self.stop.mask:#x}"}
        return {"reads": [f"{value:#x}" for value in self.reads], "stop": stop}


def outcome_from_json(record: dict[str, Any]) -> Outcome:
    stop = record["stop"]
    return Outcome(tuple(int(value, 16) for value in record["reads"]),
                   None if stop is None else Stop(stop["step"], int(stop["hsr"], 16), int(stop["mask"], 16)))


# --- Building steps ------------------------------------------------------------------------------


def mmio_write(address: int, value: int, el: str = "hyp") -> Step:
    return Step(el, "write", "mmio", address, "", value, None)


def mmio_read(address: int, el: str = "hyp", expect: Expect | None = None) -> Step:
    return Step(el, "read", "mmio", address, "", 0, expect)


def sysreg_write(name: str, value: int, el: str = "hyp") -> Step:
    return Step(el, "write", "sysreg", 0, name, value, None)


def sysreg_read(name: str, el: str = "hyp", expect: Expect | None = None) -> Step:
    return Step(el, "read", "sysreg", 0, name, 0, expect)


def with_expect(step: Step, expect: Expect | None) -> Step:
    """``step`` (a read) with another expectation."""
    if step.op != "read" and expect is not None:
        raise ScriptError(f"only a read can carry an expectation, not {step}")
    return Step(step.el, step.op, step.target, step.address, step.sysreg, step.value, expect)


# --- JSON ----------------------------------------------------------------------------------------


def _hex(value: int) -> str:
    return f"{value:#x}"


def expect_to_json(expect: Expect) -> dict[str, Any]:
    return {
        "value": _hex(expect.value),
        "mask": _hex(expect.mask),
        "count_sign": expect.count_sign,
        "width": expect.width,
    }


def step_to_json(step: Step) -> dict[str, Any]:
    """One step as the vector file holds it: every field, numbers as lowercase hex strings (a
    fresh dict each call)."""
    found = _JSON_CACHE.get(step)
    if found is None:
        found = _step_record(step)
        if len(_JSON_CACHE) < 1 << 20:
            _JSON_CACHE[step] = found
    expect = found["expect"]
    return {**found, "expect": None if expect is None else dict(expect)}


#: Steps repeat across vectors (the same readback): their JSON is built once and copied.
_JSON_CACHE: dict[Step, dict[str, Any]] = {}


def _step_record(step: Step) -> dict[str, Any]:
    return {
        "el": step.el,
        "op": step.op,
        "target": step.target,
        "address": _hex(step.address),
        "sysreg": step.sysreg,
        "value": _hex(step.value),
        "expect": None if step.expect is None else expect_to_json(step.expect),
    }


def expect_from_json(record: dict[str, Any]) -> Expect:
    return Expect(
        value=int(record["value"], 16),
        mask=int(record["mask"], 16),
        count_sign=int(record.get("count_sign", 0)),
        width=int(record.get("width", 32)),
    )


_INTERNED: dict[tuple[Any, ...], Step] = {}


def step_from_json(record: dict[str, Any]) -> Step:
    """The step a JSON record describes.  Equal records give the same object (interned), so that
    comparing a vector's prefix with :func:`quiesce_steps` is a pointer comparison per step."""
    expect = record.get("expect")
    key = (
        record["el"],
        record["op"],
        record["target"],
        record["address"],
        record["sysreg"],
        record["value"],
        None if expect is None else tuple(sorted(expect.items())),
    )
    step = _INTERNED.get(key)
    if step is None:
        step = Step(
            el=record["el"],
            op=record["op"],
            target=record["target"],
            address=int(record["address"], 16),
            sysreg=record["sysreg"],
            value=int(record["value"], 16),
            expect=None if expect is None else expect_from_json(expect),
        )
        step = _QUIESCE_BY_VALUE.get(step, step)
        if len(_INTERNED) < 1 << 20:
            _INTERNED[key] = step
    return step


def steps_to_json(steps: Sequence[Step]) -> list[dict[str, Any]]:
    return [step_to_json(step) for step in steps]


def steps_from_json(records: list[dict[str, Any]]) -> list[Step]:
    return [step_from_json(record) for record in records]


# --- System register encodings, from the spec's own decode -------------------------------------


@dataclass(frozen=True)
class SysRegEncoding:
    """Where a system register lives: ``MRC/MCR p15, opc1, Rt, CRn, CRm, opc2`` (``is64`` False)
    or ``MRRC/MCRR p15, opc1, Rt, Rt2, CRm`` (``is64`` True; ``crn`` and ``opc2`` are 0)."""

    name: str
    opc1: int
    crn: int
    crm: int
    opc2: int
    is64: bool

    @property
    def width(self) -> int:
        return 64 if self.is64 else 32

    def mnemonic(self, read: bool, rt: int = 0, rt2: int = 1) -> str:
        """The instruction, in GNU assembler syntax."""
        if self.is64:
            op = "mrrc" if read else "mcrr"
            return f"{op} p15, {self.opc1}, r{rt}, r{rt2}, c{self.crm}"
        op = "mrc" if read else "mcr"
        return f"{op} p15, {self.opc1}, r{rt}, c{self.crn}, c{self.crm}, {self.opc2}"


_PREFIX = "SysReg_"


def _invert(spec: Spec) -> dict[str, SysRegEncoding]:
    """Every SysReg member's encoding: the 64-bit one when it has one (it covers the whole
    register), else the 32-bit one with the smallest (CRn, opc1, CRm, opc2)."""
    found: dict[str, SysRegEncoding] = {}
    cp15_64 = spec.compiled.function("Model.CP15Reg64")
    state = spec.state()
    enum = _sysreg_members(spec)
    for opc1 in range(16):
        for crm in range(16):
            name = enum[cp15_64(state, opc1, crm)]
            if name != "SysReg_None" and name not in found:
                found[name] = SysRegEncoding(name[len(_PREFIX) :], opc1, 0, crm, 0, True)
    cp15 = spec.compiled.function("Model.CP15Reg")
    for crn in range(16):
        for opc1 in range(8):
            for crm in range(16):
                for opc2 in range(8):
                    name = enum[cp15(state, crn, opc1, crm, opc2)]
                    if name != "SysReg_None" and name not in found:
                        found[name] = SysRegEncoding(name[len(_PREFIX) :], opc1, crn, crm, opc2, False)
    return {name[len(_PREFIX) :]: encoding for name, encoding in found.items()}


def _sysreg_members(spec: Spec) -> tuple[str, ...]:
    func = spec.program.functions["Model.CP15Reg"]
    members: tuple[str, ...] = tuple(func.result_ty.members)  # type: ignore[union-attr]
    return members


_ENCODINGS: dict[str, dict[str, SysRegEncoding]] = {}
_MEMBERS: dict[str, dict[str, tuple[int, int]]] = {}


def sysreg_members(spec: Spec) -> dict[str, tuple[int, int]]:
    """Name (without ``SysReg_``) -> (its ``Model.SysReg`` member number, its width), for every
    register :func:`sysreg_encodings` knows; cached per spec."""
    if spec.digest not in _MEMBERS:
        members = _sysreg_members(spec)
        _MEMBERS[spec.digest] = {
            name: (members.index(_PREFIX + name), encoding.width)
            for name, encoding in sysreg_encodings(spec).items()
        }
    return _MEMBERS[spec.digest]


def sysreg_encodings(spec: Spec) -> dict[str, SysRegEncoding]:
    """Name (without ``SysReg_``) -> encoding, by inverting the spec's decode; cached per spec."""
    if spec.digest not in _ENCODINGS:
        _ENCODINGS[spec.digest] = _invert(spec)
    return _ENCODINGS[spec.digest]


def sysreg_encoding(spec: Spec, name: str) -> SysRegEncoding:
    """The encoding of ``name`` ("CNTV_CTL"), or a :class:`ScriptError` naming the known ones."""
    table = sysreg_encodings(spec)
    encoding = table.get(name)
    if encoding is None:
        near = sorted(n for n in table if n.startswith(name[:3])) or sorted(table)[:20]
        raise ScriptError(
            f"unknown system register {name!r}: not decoded by Model.CP15Reg/Model.CP15Reg64 in "
            f"spec/04-traps.md (names are Model.SysReg members without 'SysReg_'; e.g. "
            f"{', '.join(near[:12])})"
        )
    return encoding


# --- The quiesce steps ---------------------------------------------------------------------------

_TIMER_CTLS = ("CNTP_CTL", "CNTV_CTL", "CNTHP_CTL")
_TIMER_CVALS = ("CNTP_CVAL", "CNTV_CVAL", "CNTHP_CVAL")


def _words(base: int, offset: int, count: int, value: int) -> list[Step]:
    return [mmio_write(base + offset + 4 * i, value) for i in range(count)]


def quiesce_steps() -> list[Step]:
    """The quiesce steps (a fresh list of the same step objects each call): see
    :func:`_build_quiesce`."""
    return list(_QUIESCE)


def _build_quiesce() -> tuple[Step, ...]:
    """Hyp-mode writes that put every GIC and timer state a vector can observe into one state.

    In this order: the three timers disabled, their compare values, CNTVOFF, CNTKCTL, CNTHCTL
    and CNTFRQ; the virtual interface off (GICH_HCR), its list registers and active priorities
    cleared, GICH_VMCR to :data:`QUIESCE_VMCR`; the distributor and CPU interface off; for every
    one of the 288 interrupts: disabled, not pending (SGIs: every source), not active, Group 0,
    priority 0, targets 0 (SPIs), level-sensitive (PPIs and SPIs); the CPU interface's PMR 0,
    BPR 2, ABPR 3 and active priorities GICC_APR0-3 and GICC_NSAPR0-3 (Group 1) cleared.  The
    timers come first so that the lines they drive are low before the pending state is cleared.
    """
    steps = [sysreg_write(name, 0) for name in _TIMER_CTLS]
    steps += [sysreg_write(name, 0) for name in _TIMER_CVALS]
    steps += [
        sysreg_write("CNTVOFF", 0),
        sysreg_write("CNTKCTL", 0),
        sysreg_write("CNTHCTL", QUIESCE_CNTHCTL),
        sysreg_write("CNTFRQ", CNTFRQ_HZ),
    ]
    steps.append(mmio_write(GICH_BASE + 0x000, 0))  # GICH_HCR
    steps += _words(GICH_BASE, 0x100, NUM_LRS, 0)  # GICH_LR0-3
    steps.append(mmio_write(GICH_BASE + 0x0F0, 0))  # GICH_APR
    steps.append(mmio_write(GICH_BASE + 0x008, QUIESCE_VMCR))  # GICH_VMCR
    steps.append(mmio_write(GICD_BASE + 0x000, 0))  # GICD_CTLR
    steps.append(mmio_write(GICC_BASE + 0x000, 0))  # GICC_CTLR
    words = NUM_IRQS // 32
    steps += _words(GICD_BASE, 0x180, words, WORD)  # GICD_ICENABLERn
    steps += _words(GICD_BASE, 0x280, words, WORD)  # GICD_ICPENDRn
    steps += _words(GICD_BASE, 0xF10, 4, WORD)  # GICD_CPENDSGIRn
    steps += _words(GICD_BASE, 0x380, words, WORD)  # GICD_ICACTIVERn
    steps += _words(GICD_BASE, 0x080, words, 0)  # GICD_IGROUPRn
    steps += _words(GICD_BASE, 0x400, NUM_IRQS // 4, 0)  # GICD_IPRIORITYRn
    steps += _words(GICD_BASE, 0x820, (NUM_IRQS - 32) // 4, 0)  # GICD_ITARGETSR8-71
    steps += _words(GICD_BASE, 0xC04, NUM_IRQS // 16 - 1, 0)  # GICD_ICFGR1-17
    steps.append(mmio_write(GICC_BASE + 0x004, 0))  # GICC_PMR
    steps.append(mmio_write(GICC_BASE + 0x008, 2))  # GICC_BPR
    steps.append(mmio_write(GICC_BASE + 0x01C, 3))  # GICC_ABPR
    steps += _words(GICC_BASE, 0x0D0, 4, 0)  # GICC_APR0-3
    steps += _words(GICC_BASE, 0x0E0, 4, 0)  # GICC_NSAPR0-3: Group 1 active priorities
    return tuple(steps)


_QUIESCE = _build_quiesce()
_QUIESCE_BY_VALUE = {step: step for step in _QUIESCE}


def quiesce_prefix(steps: Sequence[Step]) -> int:
    """The number of leading steps that are the quiesce steps: all of them, or 0."""
    n = len(_QUIESCE)
    return n if tuple(steps[:n]) == _QUIESCE else 0


# --- The prelude of a file -----------------------------------------------------------------------


def prelude_to_json(prelude: Sequence[Step] | None = None) -> list[dict[str, Any]]:
    """The prelude as a file's meta holds it (``meta.prelude``); None: the quiesce steps."""
    return [step_to_json(step) for step in (_QUIESCE if prelude is None else prelude)]


def prelude_meta(prelude: Sequence[Step] | None = None) -> dict[str, Any]:
    """The meta fields a script file carries for its prelude (None: the quiesce steps)."""
    return {"prelude": prelude_to_json(prelude)}


def check_prelude(spec: Spec, prelude: Sequence[Step]) -> None:
    """Raise :class:`ScriptError` unless ``prelude`` is one: at least one step, every step runnable
    (:func:`check_steps`), made from Hyp mode, and carrying no expectation (nothing compares a
    prelude's reads)."""
    if not prelude:
        raise ScriptError("prelude step list is empty")
    for index, step in enumerate(prelude):
        if step.el != "hyp":
            raise ScriptError(f"prelude step {index}: el {step.el!r}: a prelude runs in Hyp mode")
        if step.expect is not None:
            raise ScriptError(
                f"prelude step {index}: carries an expectation (a prelude's reads are not compared)"
            )
    try:
        check_steps(spec, list(prelude))
    except ScriptError as err:
        raise ScriptError(f"prelude {err}") from err


def prelude_from_json(spec: Spec, meta: dict[str, Any]) -> tuple[Step, ...]:
    """The prelude a file's meta record holds, checked (:func:`check_prelude`); a missing or
    malformed one is a :class:`ScriptError` that says what is wrong."""
    records = meta.get("prelude")
    if records is None:
        raise ScriptError(f"meta has no 'prelude' (a {meta.get('category', 'script')} file stores the steps "
                          "that run before every vector there)")
    if not isinstance(records, list):
        raise ScriptError("meta.prelude is not a list of steps")
    try:
        prelude = tuple(step_from_json(record) for record in records)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise ScriptError(f"meta.prelude holds a malformed step: {err!r}") from err
    check_prelude(spec, prelude)
    return prelude


# --- The spec oracle -----------------------------------------------------------------------------


def _check_step(step: Step, index: int) -> None:
    where = f"step {index}"
    if step.el not in MODES:
        raise ScriptError(f"{where}: el {step.el!r} is not one of {', '.join(MODES)}")
    if step.op not in OPS:
        raise ScriptError(f"{where}: op {step.op!r} is not 'read' or 'write'")
    if step.target not in TARGETS:
        raise ScriptError(f"{where}: target {step.target!r} is not 'mmio' or 'sysreg'")
    if step.target == "mmio":
        if step.sysreg:
            raise ScriptError(f"{where}: an mmio step names no sysreg (got {step.sysreg!r})")
        in_frame = any(b <= step.address < b + n for b, n in FRAMES.values())
        if step.address % 4 or not (in_frame or ram_window(step.el, step.address)):
            frames = ", ".join(f"{k} {b:#x}+{n:#x}" for k, (b, n) in FRAMES.items())
            windows = RAM_WINDOWS["hyp" if step.el == "hyp" else "guest"]
            ram = ", ".join(f"{k} {b:#x}+{n:#x}" for k, (b, n) in windows.items())
            raise ScriptError(f"{where}: address {step.address:#x} is not a word in a GIC frame ({frames}) "
                              f"or in the RAM a {step.el} step may use ({ram})")
        if not 0 <= step.value <= WORD:
            raise ScriptError(f"{where}: value {step.value:#x} is wider than a word")
    elif step.address:
        raise ScriptError(f"{where}: a sysreg step has address 0 (got {step.address:#x})")
    if step.op == "read" and step.value:
        raise ScriptError(f"{where}: a read has value 0")
    if step.op == "write" and step.expect is not None:
        raise ScriptError(f"{where}: a write carries no expectation")
    if step.expect is not None and step.expect.count_sign not in (-1, 0, 1):
        raise ScriptError(f"{where}: count_sign must be -1, 0 or +1")


#: Steps found runnable, per spec digest (vectors repeat steps; a check is a pure function of both).
_RUNNABLE: dict[str, set[Step]] = {}


def check_steps(spec: Spec, steps: Sequence[Step]) -> None:
    """Raise :class:`ScriptError` for a step the runner and the harness cannot run."""
    runnable = _RUNNABLE.setdefault(spec.digest, set())
    for index, step in enumerate(steps):
        if step in runnable:
            continue
        _check_step(step, index)
        if step.target == "sysreg":
            try:
                encoding = sysreg_encoding(spec, step.sysreg)
            except ScriptError as err:
                raise ScriptError(f"step {index}: {err}") from None
            if not 0 <= step.value < 1 << encoding.width:
                raise ScriptError(
                    f"step {index}: value {step.value:#x} is wider than {step.sysreg} ({encoding.width} bits)"
                )
        if len(runnable) < 1 << 20:
            runnable.add(step)


class _Runner:
    """Runs steps concretely on one state, calling the compiled spec functions directly."""

    def __init__(self, spec: Spec, state: State) -> None:
        self.spec = spec
        self.state = state
        compiled = spec.compiled
        self.board_read = compiled.function("Board.Read")
        self.board_write = compiled.function("Board.Write")
        self.timer_read = compiled.function("Board.TimerRead")
        self.timer_write = compiled.function("Board.TimerWrite")
        self.members = sysreg_members(spec)

    def run(self, step: Step, count: int) -> int | None:
        if step.target == "mmio":
            if step.op == "read":
                return int(self.board_read(self.state, step.address, count)) & WORD
            self.board_write(self.state, step.address, step.value, count)
            return None
        member, width = self.members[step.sysreg]
        if step.op == "read":
            value = int(self.timer_read(self.state, member, count))
            return value & ((1 << width) - 1)
        self.timer_write(self.state, member, step.value, count)
        return None


_PRELUDED: dict[tuple[Any, ...], State] = {}


def _prelude_key(spec: Spec, oracle_seed: int, prelude: Sequence[Step]) -> tuple[Any, ...]:
    steps = tuple(prelude)
    return (spec.digest, oracle_seed, "quiesce" if steps == _QUIESCE else steps)


def fork_state(state: State) -> State:
    """An independent copy of ``state`` for a run: the maps copied, everything else shared (a
    register, record or array value is an int or a tuple, rebound by a write, never changed in
    place), and the oracle copied with its seed, overrides and choices."""
    fork = copy.copy(state)
    for name, value in vars(state).items():
        if isinstance(value, dict):
            setattr(fork, name, dict(value))
    oracle = copy.copy(state.oracle)
    oracle.overrides = dict(oracle.overrides)
    oracle.chosen = dict(oracle.chosen)
    fork.oracle = oracle
    return fork


def preluded_state(spec: Spec, oracle_seed: int = 0, prelude: Sequence[Step] | None = None) -> State:
    """A fresh copy of the state after reset and ``prelude`` (None: the quiesce steps), every
    prelude step at count 0, computed once per spec, seed and prelude.

    The quiesce steps disable every timer, so the state they leave does not depend on the count;
    a prelude that leaves state depending on the count is the generator's to refuse
    (hypspec.categories.timers.generate proves it of the quiesce steps).
    """
    steps = _QUIESCE if prelude is None else tuple(prelude)
    key = _prelude_key(spec, oracle_seed, steps)
    if key not in _PRELUDED:
        check_prelude(spec, steps)
        state = spec.state(oracle_seed)
        runner = _Runner(spec, state)
        for step in steps:
            runner.run(step, 0)
        _PRELUDED[key] = state
    return fork_state(_PRELUDED[key])


def quiesced_state(spec: Spec, oracle_seed: int = 0) -> State:
    """A fresh copy of the state after reset and the quiesce steps (computed once per spec/seed)."""
    return preluded_state(spec, oracle_seed)


def run_script(
    spec: Spec,
    steps: Sequence[Step],
    count: int,
    oracle_seed: int = 0,
    prelude: Sequence[Step] | None = None,
) -> list[int | None]:
    """Run ``prelude`` (None: :func:`quiesce_steps`) and then ``steps`` on the spec from reset, every
    access of ``steps`` at physical count ``count``, through ``Board.Read``/``Board.Write`` and
    ``Board.TimerRead``/``Board.TimerWrite``: what a vector of a file with that prelude means.

    Returns one entry per step of ``steps``: the value a read returns (32-bit registers masked to
    32 bits), None for a write.  Raises :class:`ScriptError` for an unknown register, mode or
    address, or a prelude that is not one (:func:`check_prelude`).
    """
    check_steps(spec, steps)
    state = preluded_state(spec, oracle_seed, prelude)
    runner = _Runner(spec, state)
    return [runner.run(step, count) for step in steps]
