"""The interface of the bare-metal script harness: one script vector, its segments, what came back.

A :class:`ScriptCase` is a script vector's id, its own steps (:class:`hypspec.categories.script.steps.Step`)
and the prelude of its file (``meta.prelude``: the quiesce steps, for the generated files).  The
harness runs the prelude and then the steps in order, each in the mode it names, and cuts them
into :class:`Segment` s -- maximal runs of steps in one mode -- because a change of mode is an
ERET from Hyp mode or an exception back to it:

* the prelude (Hyp-mode steps without expectations) is a segment of its own, stored once per
  image for every case with that prelude.  Step indices (``first``, ``reads``, ``stopped_at``)
  count the vector's own steps from 0; the prelude's segment has ``first`` =
  :data:`PRELUDE_FIRST`, so that a stop inside it reports step ``PRELUDE_FIRST + k``;
* a *timed* step is a segment of its own: the harness reads CNTPCT in Hyp mode right before and
  right after it (for a guest step, before the ERET and after the exception that ends the
  segment), so the physical count the access saw lies between the two.  Timed are the reads
  whose expectation is counter-relative (``count_sign`` != 0) and the writes that latch the
  count: a TimerValue write (``CNTP_TVAL``, ``CNTV_TVAL``, ``CNTHP_TVAL``) sets the compare value
  to the count at the write plus the value, so a later read of the compare value is relative to
  *that* count.  A counter-relative read agrees when its count lies in the interval of the read
  itself or of any timed step before it (:func:`latching`);
* every other run of consecutive steps with one ``el`` is one segment.

A :class:`ScriptObservation` gives, per read step that ran, the value read, and per timed read
the two counts around it; and whether the vector ran to its end (``ok``) or stopped at a step
because an exception was taken (``exception``: the step index and what was taken). An image
that stops reporting is a harness failure (`image_runner.run_image`), never an observation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache, cached_property
from typing import Literal

from hypspec.api import Spec
from hypspec.categories.script.steps import (
    ScriptError,
    Step,
    SysRegEncoding,
    check_prelude,
    check_steps,
    ram_window,
    sysreg_encodings,
)
from hypspec.conformance.errors import ConformanceInputError

Outcome = Literal["ok", "exception"]

#: Segment flags as the harness reads them: bits [1:0] the mode, bit 8 "timed".
SEG_MODES = {"hyp": 0, "svc": 1, "usr": 2}
SEG_MODE_MASK = 0x3
SEG_TIMED = 0x100
#: Words of the results buffer one vector may fill (CNTPCT pairs and read values).
RESULT_WORDS = 4096
#: The index the harness reports for the first step of the prelude (the prelude's segment starts
#: there): a stop in prelude step k reports PRELUDE_FIRST + k, above any vector's own steps.
PRELUDE_FIRST = 0x8000_0000


@dataclass(frozen=True)
class ScriptCase:
    """One vector: its own ``steps`` and the ``prelude`` of its file, which runs first (empty:
    none; only a hand-made case has none, every script file has one)."""

    id: str
    steps: tuple[Step, ...]
    prelude: tuple[Step, ...] = ()

    @cached_property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(_segments(self))


@dataclass(frozen=True)
class Segment:
    """Steps ``first`` .. ``first + len(steps) - 1`` of a vector, run in one mode."""

    el: str
    first: int
    steps: tuple[Step, ...]
    timed: bool = False
    shared: bool = False  # the prelude block, stored once per image

    @property
    def flags(self) -> int:
        return SEG_MODES[self.el] | (SEG_TIMED if self.timed else 0)


@dataclass(frozen=True)
class ScriptObservation:
    """What the target did for one :class:`ScriptCase`."""

    id: str
    outcome: Outcome
    reads: dict[int, int] = field(default_factory=dict)  # step index -> value read
    bounds: dict[int, tuple[int, int]] = field(default_factory=dict)  # timed step -> CNTPCT around it
    stopped_at: int | None = None  # exception: the own step the vector stopped at (None: in the prelude)
    detail: str = ""
    prelude_step: int | None = None  # exception in the prelude: the prelude step it stopped at
    syndrome: int | None = None  # an exception from the guest taken to Hyp mode: its HSR


def segments(case: ScriptCase) -> tuple[Segment, ...]:
    """The segments the harness runs ``case`` as, in order (see the module docstring)."""
    return case.segments


def _segments(case: ScriptCase) -> list[Segment]:
    steps = case.steps
    out: list[Segment] = []
    if case.prelude:
        out.append(Segment("hyp", PRELUDE_FIRST, case.prelude, shared=True))
    run: list[Step] = []
    run_first = 0
    for index in range(len(steps)):
        step = steps[index]
        isolated = timed(step)
        if run and (isolated or step.el != run[0].el):
            out.append(Segment(run[0].el, run_first, tuple(run)))
            run = []
        if isolated:
            out.append(Segment(step.el, index, (step,), timed=True))
            continue
        if not run:
            run_first = index
        run.append(step)
    if run:
        out.append(Segment(run[0].el, run_first, tuple(run)))
    return out


def latching(step: Step) -> bool:
    """A write whose effect depends on the count it is made at: a TimerValue write."""
    return step.op == "write" and step.target == "sysreg" and step.sysreg.endswith("_TVAL")


def timed(step: Step) -> bool:
    """Whether the harness reads CNTPCT around ``step`` (see the module docstring)."""
    return (step.expect is not None and step.expect.count_sign != 0) or latching(step)


@cache
def shipped_spec() -> Spec:
    """The shipped spec, loaded once per process: the system register names and encodings."""
    return Spec.load()


def encodings() -> dict[str, SysRegEncoding]:
    """System register encodings of the shipped spec (:func:`sysreg_encodings`, cached)."""
    return sysreg_encodings(shipped_spec())


def result_words(case: ScriptCase) -> int:
    """How many words the harness stores for ``case`` when every step runs."""
    table = encodings()
    total = 0
    for segment in case.segments:
        total += 4 if segment.timed else 0
        for step in segment.steps:
            if step.op == "read":
                total += 2 if step.target == "sysreg" and table[step.sysreg].is64 else 1
    return total


#: Preludes found runnable, by identity (the cases of one file share one prelude tuple; hashing
#: its 223 steps for every case would cost more than the case's own checks).
_CHECKED_PRELUDES: dict[int, tuple[Step, ...]] = {}


def _check_prelude(prelude: tuple[Step, ...]) -> None:
    """:func:`check_prelude`, once per prelude object."""
    if _CHECKED_PRELUDES.get(id(prelude)) is not prelude:
        check_prelude(shipped_spec(), prelude)
        _CHECKED_PRELUDES[id(prelude)] = prelude  # kept alive: its id is not reused


def validate(case: ScriptCase) -> None:
    """Raise :class:`ConformanceInputError` if the harness cannot run ``case``."""
    if not isinstance(case.id, str) or not case.id:
        raise ConformanceInputError("script case: id must be a non-empty string")
    if not case.steps:
        raise ConformanceInputError(f"script case {case.id!r}: no steps")
    if len(case.steps) >= PRELUDE_FIRST:
        raise ConformanceInputError(f"script case {case.id!r}: too many steps")
    try:
        if case.prelude:
            _check_prelude(case.prelude)
        check_steps(shipped_spec(), list(case.steps))
    except ScriptError as err:
        raise ConformanceInputError(f"script case {case.id!r}: {err}") from err
    words = result_words(case)
    if words > RESULT_WORDS:
        raise ConformanceInputError(
            f"script case {case.id!r}: its reads fill {words} words, more than the harness's "
            f"results buffer ({RESULT_WORDS}); split the vector"
        )


# --- Register names, for reports and for matching known deviations -----------------------------

_FRAMES = (("GICD", 0x0800_0000, 0x1000), ("GICC", 0x0801_0000, 0x2000))
_FRAMES += (("GICH", 0x0803_0000, 0x1000), ("GICV", 0x0804_0000, 0x2000))

#: Distributor registers that are arrays: (first offset, end, name, bytes per register).
_GICD_ARRAYS = (
    (0x080, 0x100, "IGROUPR", 4),
    (0x100, 0x180, "ISENABLER", 4),
    (0x180, 0x200, "ICENABLER", 4),
    (0x200, 0x280, "ISPENDR", 4),
    (0x280, 0x300, "ICPENDR", 4),
    (0x300, 0x380, "ISACTIVER", 4),
    (0x380, 0x400, "ICACTIVER", 4),
    (0x400, 0x800, "IPRIORITYR", 4),
    (0x800, 0xC00, "ITARGETSR", 4),
    (0xC00, 0xD00, "ICFGR", 4),
    (0xF10, 0xF20, "CPENDSGIR", 4),
    (0xF20, 0xF30, "SPENDSGIR", 4),
    (0xFD0, 0x1000, "ID", 4),
)
_GICD_SINGLE = {0x000: "CTLR", 0x004: "TYPER", 0x008: "IIDR", 0xF00: "SGIR"}
#: The CPU interface registers (GICC and GICV share the layout; IHI 0048B.b §4.1.3, §5.4).
_CPU_SINGLE = {
    0x00: "CTLR",
    0x04: "PMR",
    0x08: "BPR",
    0x0C: "IAR",
    0x10: "EOIR",
    0x14: "RPR",
    0x18: "HPPIR",
    0x1C: "ABPR",
    0x20: "AIAR",
    0x24: "AEOIR",
    0x28: "AHPPIR",
    0xFC: "IIDR",
    0x1000: "DIR",
}
_CPU_ARRAYS = ((0xD0, 0xE0, "APR", 4), (0xE0, 0xF0, "NSAPR", 4))
_GICH_SINGLE = {
    0x000: "HCR",
    0x004: "VTR",
    0x008: "VMCR",
    0x010: "MISR",
    0x020: "EISR0",
    0x024: "EISR1",
    0x030: "ELRSR0",
    0x034: "ELRSR1",
    0x0F0: "APR",
}
_GICH_ARRAYS = ((0x100, 0x200, "LR", 4),)


def _name_in(
    offset: int, single: dict[int, str], arrays: tuple[tuple[int, int, str, int], ...]
) -> tuple[str, str] | None:
    if offset in single:
        return single[offset], single[offset]
    for start, end, name, size in arrays:
        if start <= offset < end:
            return f"{name}{(offset - start) // size}", name
    return None


def register_name(step: Step) -> tuple[str, str]:
    """(name, group) of the register a step accesses: ``("GICD_ISENABLER1", "GICD_ISENABLER")``,
    ``("GICH_LR2", "GICH_LR")``, ``("CNTV_CTL", "CNTV_CTL")``; a word of the RAM a tlb vector
    uses is named by its window (``("IPA_80001000", "IPA")``,
    :data:`hypspec.categories.script.steps.RAM_WINDOWS`); an offset no register occupies is
    ``("GICC_RESERVED_040", "GICC_RESERVED")``."""
    if step.target == "sysreg":
        return step.sysreg, step.sysreg
    for frame, base, size in _FRAMES:
        if base <= step.address < base + size:
            offset = step.address - base
            if frame == "GICD":
                found = _name_in(offset, _GICD_SINGLE, _GICD_ARRAYS)
            elif frame == "GICH":
                found = _name_in(offset, _GICH_SINGLE, _GICH_ARRAYS)
            else:
                found = _name_in(offset, _CPU_SINGLE, _CPU_ARRAYS)
            if found is None:
                return f"{frame}_RESERVED_{offset:03X}", f"{frame}_RESERVED"
            return f"{frame}_{found[0]}", f"{frame}_{found[1]}"
    window = ram_window(step.el, step.address)
    if window is not None:  # the tlb vectors' tables, data and guest addresses
        return f"{window}_{step.address:08X}", window
    return f"PA_{step.address:08X}", "UNMAPPED"


def step_flags(step: Step) -> tuple[str, ...]:
    """The flags a disagreement at ``step`` carries besides its vector's: ``EL_<mode>``,
    ``OP_<op>`` and ``REG_<register group>``, so a deviation entry can name, say, every GICV_HPPIR
    read (``flags = ["REG_GICV_HPPIR"]``)."""
    _, group = register_name(step)
    return (f"EL_{step.el.upper()}", f"OP_{step.op.upper()}", f"REG_{group}")


def since_flags(case: ScriptCase, index: int | None) -> tuple[str, ...]:
    """``SINCE_READS_<register group>`` and ``SINCE_WRITES_<register group>`` for every register the
    vector's own steps access up to and including step ``index`` (none for a prelude step,
    ``index`` None): a deviation entry can excuse only what follows an access an implementation
    gets wrong (``flags = ["SINCE_WRITES_GICV_AEOIR"]``), not the reads before it."""
    if index is None:
        return ()
    found = {
        f"SINCE_{'READS' if step.op == 'read' else 'WRITES'}_{register_name(step)[1]}"
        for step in case.steps[: index + 1]
    }
    return tuple(sorted(found))


def access_flags(case: ScriptCase) -> tuple[str, ...]:
    """``READS_<register group>`` and ``WRITES_<register group>`` for every register the vector
    accesses in its own steps (not the prelude), sorted: a deviation entry can name the vectors whose every
    later read an implementation's mistake may change (``flags = ["WRITES_GICV_AEOIR"]``)."""
    found = {
        f"{'READS' if step.op == 'read' else 'WRITES'}_{register_name(step)[1]}"
        for step in case.steps
    }
    return tuple(sorted(found))
