"""The world switch as a sequence diagram, read from the model's syntax tree: the statements of
`KVM.VcpuRun()` (host to guest) and `KVM.VcpuReturn()` (guest to host) in the order they run,
each classified by what it touches, found through the functions it calls. Reordering, adding or
removing a statement of the lowvisor changes the picture."""

from __future__ import annotations

from dataclasses import dataclass

from hypspec.lang import syntax as s
from hypspec.lang.checker import Program
from hypspec.site.diagrams.sequence import Message, Section, sequence_svg
from hypspec.site.uses import nodes

ENTER, LEAVE = "KVM.VcpuRun", "KVM.VcpuReturn"
ERET = "Model.ExecuteERET"
VECTOR = "KVM.HypVector"  # the lowvisor's vector table: every exception to Hyp mode arrives here
# The lifelines, left to right
HOST, LOWVISOR, SAVED, GUEST = "Host (PL1)", "Lowvisor (Hyp mode)", "Saved contexts (memory)", "Guest (PL1)"
LIFELINES = (HOST, LOWVISOR, SAVED, GUEST)
MODEL_STATE, GHOST = "KVM_", "Ghost"


@dataclass(frozen=True)
class Step:
    text: str  # the statement, as the model writes it
    source: str  # the lifeline the arrow leaves
    target: str
    conditional: bool  # inside an `if`: not every switch takes it


@dataclass(frozen=True)
class Half:
    function: str  # KVM.VcpuRun or KVM.VcpuReturn
    callers: tuple[str, ...]  # the functions that call it: how the lowvisor got here
    steps: tuple[Step, ...]


def derive(program: Program, lines: dict[str, list[str]]) -> tuple[Half, Half]:
    """Both halves; `lines` gives each chapter's lines by the name the loader gives its file."""
    return (_half(program, lines, ENTER, HOST, GUEST), _half(program, lines, LEAVE, GUEST, HOST))


def _half(program: Program, lines: dict[str, list[str]], name: str, came_from: str, goes_to: str) -> Half:
    """One half: the exception that reaches the lowvisor, then each statement. After the ERET the
    code runs where the ERET went (the host's side of `KVM.VcpuReturn()`)."""
    callers = _caller_chain(program, name)
    steps = [Step(f"exception to HVBAR: {' → '.join(callers)}", came_from, LOWVISOR, False)]
    here = LOWVISOR
    for stmt, conditional in _statements(program.functions[name].body, False):
        step = _step(program, lines, stmt, conditional, here, goes_to)
        if step is not None:
            steps.append(step)
            here = step.target if step.target == goes_to else here
    return Half(name, tuple(callers), tuple(steps))


def _caller_chain(program: Program, name: str) -> list[str]:
    """The calls that lead to `name`, outermost first: the first caller of each, back to the
    vector the exception entered (or to a function nothing calls)."""
    chain: list[str] = []
    current = name
    while current != VECTOR:
        callers = sorted(c for c, func in program.functions.items()
                         if current in _called(func.body) and c not in chain)
        if not callers:
            break
        chain.insert(0, callers[0])
        current = callers[0]
    return chain


def _statements(body: list[s.Stmt], conditional: bool):
    """Statements in the order they run, with whether an `if` guards them."""
    for stmt in body:
        if isinstance(stmt, s.If):
            for _, arm in stmt.arms:
                yield from _statements(arm, True)
            yield from _statements(stmt.orelse or [], True)
        else:
            yield stmt, conditional


def _step(program: Program, lines: dict[str, list[str]], stmt: s.Stmt, conditional: bool,
          here: str, goes_to: str) -> Step | None:
    """The arrow of one statement run on lifeline `here`: ERET to where the half goes; a write to
    saved memory, from `here` to it; a read of saved memory, from it; anything else, `here`'s own
    registers. A plain local assignment (no call, no global written) draws nothing."""
    text = lines[stmt.loc.file][stmt.loc.line - 1].strip().rstrip(";")
    called = _called(stmt)
    if ERET in called:
        return Step(text, here, goes_to, conditional)
    written, read = _touched(program, stmt)
    if not called and not written:
        return None
    memory = _memory(program)
    if written & memory:
        return Step(text, here, SAVED, conditional)
    if read & memory:
        return Step(text, SAVED, here, conditional)
    return Step(text, here, here, conditional)


def _called(node: object) -> set[str]:
    return {n.func for n in nodes(node) if isinstance(n, s.Call)}


def _memory(program: Program) -> set[str]:
    """The model's own state (saved contexts, tables), named in the model's namespace; its ghost
    copies exist for the proofs alone, and no switch saves anything there."""
    return {name for name in program.globals
            if name.startswith(MODEL_STATE) and not name.endswith(GHOST)}


def _touched(program: Program, stmt: s.Stmt) -> tuple[set[str], set[str]]:
    """The globals a statement writes and reads, through every function it calls."""
    written, read = _direct(stmt)
    seen: set[str] = set()
    pending = [c for c in _called(stmt) if c in program.functions]
    while pending:  # the functions called, directly or not, each once
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        more_written, more_read = _direct(program.functions[name].body)
        written |= more_written
        read |= more_read
        pending += [c for c in _called(program.functions[name].body) if c in program.functions]
    return written, read


def _direct(node: object) -> tuple[set[str], set[str]]:
    """Globals assigned (the root of each assignment's target) and globals named anywhere."""
    written = {_root(n.target) for n in nodes(node) if isinstance(n, s.Assign)} - {None}
    read = {n.name for n in nodes(node) if isinstance(n, s.Var) and n.scope == "global"}
    return written, read  # type: ignore[return-value]


def _root(target: s.Expr) -> str | None:
    while isinstance(target, (s.Slice, s.Index, s.Field)):
        target = target.base
    return target.name if isinstance(target, s.Var) and target.scope == "global" else None


def picture(halves: tuple[Half, Half]) -> str:
    """The SVG: both halves, one under the other, on the four lifelines."""
    sections = [Section(f"{half.function}()",
                        tuple(Message(step.source, step.target, step.text, step.conditional)
                              for step in half.steps))
                for half in halves]
    return sequence_svg(LIFELINES, sections)
