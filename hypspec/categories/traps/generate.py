"""The `traps` vector category: one guest instruction under a trap configuration, and its fate.

Each vector is a trap configuration (CPSR and the registers `Model.TrapDecision` reads: HCR,
HSTR, HCPTR, HDCR, CNTHCTL, CNTKCTL, CPACR, FPEXC, PMUSERENR), one A32 instruction word and the
values r0-r12 hold, and the outcome the spec computes: the instruction executes, is UNDEFINED,
traps to Hyp mode (with HSR), is a Supervisor Call or a Secure Monitor Call; plus, where an
exception is taken to a mode the harness reports on, the return address the spec's exception
entry records (ELR_hyp, LR_und, LR_svc or LR_abt), as an offset from the instruction's address.

Vectors come from three sources. *Witnesses*: Z3 finds an input for every feasible path of
`Model.TrapDecision` and every function it calls, under the constraints of the bare-metal trap
harness (`hypspec.categories.traps.case`): the two guest modes it enters, the register values it
forces, the instructions it refuses, written as Z3 terms over the spec's own decode. Paths the
spec can take but the harness cannot run are not dropped silently: they are listed, with the
harness rule that excludes them, in the file's coverage (`not_runnable`). *Catalogue*: one
vector per row of `CATALOGUE` (each trap control with a representative instruction) in SVC and
in User mode. *Random*: seeded configurations and instructions drawn from the decoded classes.
Every expected outcome comes from the concrete semantics, every path from the traced build.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

import z3

from hypspec.api import Spec, State, SymbolicCall
from hypspec.categories.traps import case as trap_case
from hypspec.concrete.runtime import FilledOracle, Oracle
from hypspec.lang.types import Bits
from hypspec.output import MeterFactory, no_meter
from hypspec.symbolic.evaluator import Decision, Invocation, SymbolicEvaluator, to_z3
from hypspec.symbolic.model import model_value, unknown_values
from hypspec.vectors.generated import PATHS_FOUND, VECTORS_MADE, Emitted, Generated, VectorSink
from hypspec.vectors.paths import (
    Path,
    Rule,
    call_condition,
    excluding_rules,
    feasible_paths,
    traced_paths,
)

OPERATION = "Model.TrapDecision"
#: The state `Model.TrapDecision` reads, in the order vectors list it.
STATE_REGISTERS = (
    "CPSR",
    "HCR",
    "HSTR",
    "HCPTR",
    "HDCR",
    "CNTHCTL",
    "CNTKCTL",
    "CPACR",
    "FPEXC",
    "PMUSERENR",
)
WORD = 0xFFFF_FFFF

#: CPSR the harness enters each guest mode with (A, I, F set, flags clear, ARM state).
GUEST_CPSR = dict(trap_case.GUEST_CPSR)
MODES = tuple(GUEST_CPSR)
HPMN = 6  # HDCR.HPMN: the six counters of Cortex-A15 (the harness keeps QEMU's PMCR.N)
#: Cortex-A15's debug resources (Cortex-A15 TRM, DBGDIDR): six breakpoints, of which 4 and 5 can
#: match a context (and so have DBGBXVR), and four watchpoints.
A15_BREAKPOINTS, A15_WATCHPOINTS, A15_CONTEXT_BREAKPOINTS = 6, 4, (4, 5)
#: r<n> for an LDC/STC-class base register: 4 KiB into the harness's scratch RAM, so the whole
#: +/-1 KiB window the harness checks lies inside it.
SCRATCH_POINTER = trap_case.TRAP_SCRATCH_BASE + 0x1000

#: TrapOutcome member -> the vector's outcome name.
OUTCOMES = {
    "TrapOutcome_Execute": "execute",
    "TrapOutcome_Undefined": "undefined",
    "TrapOutcome_HypTrap": "hyp_trap",
    "TrapOutcome_SupervisorCall": "supervisor_call",
    "TrapOutcome_SecureMonitorCall": "secure_monitor_call",
    "TrapOutcome_DebugException": "debug_exception",
}
#: An address for the trapped instruction when the spec computes return addresses; vectors
#: record the offset from it, since the harness places each instruction itself.
NOMINAL_PC = 0x0000_1000
#: HSR.EC of a Prefetch Abort routed to Hyp mode: for a trap vector, a BKPT's debug exception.
EC_PREFETCH_ABORT = 0x20


def _hex(value: int) -> str:
    return f"{value:#x}"


@dataclass(frozen=True)
class Stimulus:
    """One guest instruction and the state it runs in."""

    opcode: int
    registers: dict[str, int]  # every name of STATE_REGISTERS
    gprs: dict[int, int] = field(default_factory=dict)  # r0-r12 before the instruction; absent = 0

    @property
    def mode(self) -> str:
        return "usr" if self.registers["CPSR"] & 0x1F == 0x10 else "svc"


# ---- the harness baseline --------------------------------------------------------------------


def baseline(mode: str) -> dict[str, int]:
    """The registers as the harness programs them by default, for a guest in `mode`.

    HCR.IMO is set because the harness forces it; HDCR has HPMN = 6 and nothing trapped;
    PMUSERENR is 0 because the harness does not program it (QEMU's reset value).
    """
    values = {"CPSR": GUEST_CPSR[mode], "HDCR": HPMN, "PMUSERENR": 0}
    for name in trap_case.REGISTER_NAMES:
        default = trap_case.DEFAULT_REGISTERS[name]
        if default is not None:
            values[name] = default
    values["HCR"] |= trap_case.HCR_FORCED
    return {name: values[name] for name in STATE_REGISTERS}


def decoded(spec: Spec, opcode: int) -> dict[str, Any]:
    """The spec's decode of an instruction word (`A32.Decode`), fields by name."""
    return spec.call("A32.Decode", opcode)


def harness_gprs(spec: Spec, opcode: int, cpsr: int) -> dict[int, int]:
    """r0-r12 for an instruction: the spec does not read them, the harness needs a few.

    An LDC/STC-class instruction gets a base register pointing into the scratch RAM; an MSR
    writes the CPSR value the guest already has, so that it changes nothing the harness relies
    on. Every other register is 0: an MCR writes 0, which no refusal of the harness forbids.
    """
    instr = decoded(spec, opcode)
    iclass = instr["iclass"]
    if iclass == "A32Class_LDC_STC" and instr["Rn"] <= 12:
        return {instr["Rn"]: SCRATCH_POINTER}
    if iclass in ("A32Class_MSR", "A32Class_MSR_banked"):
        return {instr["Rn"]: cpsr}
    return {}


def to_case(vector_id: str, stimulus: Stimulus) -> trap_case.TrapCase:
    registers = {name: stimulus.registers[name] for name in trap_case.REGISTER_NAMES}
    return trap_case.TrapCase(
        vector_id,
        stimulus.mode,
        stimulus.opcode,
        registers,  # type: ignore[arg-type]
        dict(stimulus.gprs),
    )


# ---- harness constraints as Z3 terms ----------------------------------------------------------


class _Terms:
    """The symbolic inputs of a call, by register field and by decoded instruction field."""

    def __init__(self, spec: Spec, call: SymbolicCall) -> None:
        self.spec = spec
        self.call = call
        self.opcode = call.args[0]
        record = spec.program.records["A32Instr"]
        evaluation = SymbolicEvaluator(spec.program, dict(call.inputs)).call("A32.Decode", list(call.args))
        self.instr = dict(zip((f for f, _ in record.fields), evaluation.result, strict=True))  # type: ignore[arg-type]
        self.classes = record.fields[0][1].members  # type: ignore[attr-defined]

    def reg(self, name: str) -> z3.BitVecRef:
        return to_z3(self.call.inputs[name], self.spec.program.globals[name].ty)  # type: ignore[return-value]

    def field(self, register: str, name: str) -> z3.BitVecRef:
        layout = self.spec.program.globals[register].ty.layout  # type: ignore[attr-defined]
        hi, lo = layout.get(name)
        return z3.Extract(hi, lo, self.reg(register))

    def defined_bits(self, register: str) -> int:
        layout = self.spec.program.globals[register].ty.layout  # type: ignore[attr-defined]
        return sum(((1 << (hi - lo + 1)) - 1) << lo for _, hi, lo in layout.fields)

    def bits(self, hi: int, lo: int) -> z3.BitVecRef:
        return z3.Extract(hi, lo, self.opcode)

    def is_class(self, *names: str) -> z3.BoolRef:
        return z3.Or([self.instr["iclass"] == self.classes.index(f"A32Class_{n}") for n in names])


def _register_rules(t: _Terms) -> list[Rule]:
    cpsr = t.reg("CPSR")
    usr = cpsr == GUEST_CPSR["usr"]
    hcr = [
        t.field("HCR", "IMO") == 1,
        t.field("HCR", "VM") == 0,
        t.field("HCR", "DC") == 0,
        z3.Implies(t.field("HCR", "TGE") == 1, usr),
        t.field("HCR", "VI") == 0,
        t.field("HCR", "VF") == 0,
        t.field("HCR", "VA") == 0,
    ]
    reserved = [
        t.reg(name) & (~t.defined_bits(name) & WORD) == 0
        for name in ("HCR", "HSTR", "HCPTR", "HDCR", "CNTHCTL", "CNTKCTL", "CPACR", "FPEXC")
    ]
    hdcr = {name: t.field("HDCR", name) == 1 for name in ("TDE", "TDA", "TDOSA", "TDRA")}
    unpredictable = [
        t.field("CPACR", "cp11") == t.field("CPACR", "cp10"),
        t.field("CPACR", "cp10") != 0b10,
        t.field("HCPTR", "TCP11") == t.field("HCPTR", "TCP10"),
        t.field("HDCR", "HPMN") == HPMN,
        z3.Implies(hdcr["TDE"], z3.And(hdcr["TDA"], hdcr["TDOSA"], hdcr["TDRA"])),
        z3.Implies(hdcr["TDA"], z3.And(hdcr["TDOSA"], hdcr["TDRA"])),
    ]
    return [
        Rule(
            "guest entry",
            "the harness enters the guest in SVC or User mode with A, I, F set, "
            "the flags clear, in ARM state",
            [z3.Or([cpsr == v for v in GUEST_CPSR.values()])],
        ),
        Rule(
            "forced HCR",
            "the harness sets HCR.IMO for its watchdog and refuses HCR.VM, HCR.DC, "
            "HCR.TGE in SVC mode; virtual interrupts (VI, VF, VA) would be taken at PL1 and hide "
            "the instruction's outcome",
            hcr,
        ),
        Rule(
            "PMUSERENR",
            "the harness does not program PMUSERENR: it holds QEMU's reset value 0",
            [t.reg("PMUSERENR") == 0],
        ),
        Rule("reserved bits", "bits the registers do not define are written as zero (UNK/SBZP)", reserved),
        Rule(
            "ARMv7 constraints",
            "settings ARMv7 makes UNPREDICTABLE are not used: CPACR.cp11 "
            "differing from cp10 or set to the reserved 0b10, HCPTR.TCP11 differing from TCP10, "
            "HDCR.TDE without TDA, TDOSA and TDRA, TDA without TDOSA and TDRA, and HDCR.HPMN "
            "other than PMCR.N (6)",
            unpredictable,
        ),
        Rule(
            "unmodelled controls",
            "the spec does not model CPACR.D32DIS or FPEXC.EX",
            [t.field("CPACR", "D32DIS") == 0, t.field("FPEXC", "EX") == 0],
        ),
        Rule(
            "Event Register",
            "the instruction runs with the Event Register clear: the exception return into the "
            "guest sets it, and the guest prologue (SEV; WFE) consumes it",
            [t.reg("EventRegister") == 0],
        ),
    ]


def _plain_instruction(t: _Terms) -> z3.BoolRef:
    """Words outside the decoded classes that simply execute: data-processing immediate (not to
    the PC), CLZ, the NOP-like hints and the barriers."""
    b = t.bits
    cond = b(31, 28)
    move = z3.Or(b(24, 21) == 0b1101, b(24, 21) == 0b1111)  # MOV, MVN: Rn is (0)(0)(0)(0)
    dp = z3.And(cond != 15, b(27, 25) == 1, b(24, 23) != 2, b(15, 12) != 15, z3.Implies(move, b(19, 16) == 0))
    clz = z3.And(cond != 15, b(27, 16) == 0x16F, b(11, 4) == 0xF1, b(15, 12) != 15, b(3, 0) != 15)
    hint = z3.And(cond != 15, b(27, 16) == 0x320, b(15, 8) == 0xF0)
    barrier = z3.And(
        b(31, 20) == 0xF57, b(19, 8) == 0xFF0, b(3, 0) == 0xF, z3.Or(b(7, 4) == 4, b(7, 4) == 5, b(7, 4) == 6)
    )
    return z3.Or(dp, clz, hint, barrier)


def _well_formed_status(t: _Terms) -> list[z3.BoolRef]:
    """CPS and MSR forms whose effect the harness survives and ARMv7 defines."""
    b, d = t.bits, t.instr
    imod, m, aif, mode = b(19, 18), b(17, 17), b(8, 6), b(4, 0)
    legal = z3.Or([mode == v for v in (0x10, 0x11, 0x12, 0x13, 0x17, 0x1B, 0x1F)])
    cps = z3.And(
        imod != 1,
        z3.Implies(imod == 0, z3.And(m == 1, aif == 0)),
        z3.Implies(z3.UGE(imod, 2), aif != 0),
        z3.If(m == 1, legal, mode == 0),
    )
    same_control = z3.And(b(11, 8) == 0, b(7, 0) == z3.Extract(7, 0, t.reg("CPSR")))
    msr_imm = z3.Or(d["mask"] == 8, z3.And(d["mask"] == 1, same_control))
    return [
        z3.Implies(t.is_class("CPS"), cps),
        z3.Implies(t.is_class("MSR_imm"), msr_imm),
        z3.Implies(t.is_class("MSR"), d["mask"] != 0),
    ]


def _floating_point_forms(t: _Terms) -> list[z3.BoolRef]:
    """Allocated encodings for the CP10/CP11 and Advanced SIMD classes: VMOV (core and single,
    core and scalar, two cores and a doubleword), VADD, VLDR/VSTR and integer VADD."""
    d = t.instr
    fp = z3.Or(d["coproc"] == 10, d["coproc"] == 11)
    opc1, opc2, crm = d["opc1"], d["opc2"], d["CRm"]
    cp10 = z3.And(t.is_class("MCR_MRC"), d["coproc"] == 10)
    cp11 = z3.And(t.is_class("MCR_MRC"), d["coproc"] == 11)
    return [
        z3.Implies(cp10, z3.And(opc1 == 0, opc2 & 3 == 0, crm == 0)),
        z3.Implies(cp11, z3.And(z3.ULE(opc1, 1), opc2 & 3 == 0, crm == 0)),
        z3.Implies(z3.And(t.is_class("MCRR_MRRC"), fp), opc1 == 1),
        z3.Implies(z3.And(t.is_class("CDP"), fp), z3.And(opc1 & 0xB == 3, opc2 & 2 == 0)),
        z3.Implies(z3.And(t.is_class("LDC_STC"), fp), z3.And(d["PUDW"] & 8 == 8, d["PUDW"] & 1 == 0)),
        z3.Implies(t.is_class("AdvSIMD"), t.opcode & 0xFF80_0F50 == 0xF200_0800),
        z3.Implies(t.is_class("VMRS_VMSR"), z3.And(opc2 == 0, crm == 0)),  # its (0) bits
    ]


def _debug_resources(t: _Terms) -> z3.BoolRef:
    """CP14 breakpoint and watchpoint registers only for the resources Cortex-A15 has."""
    d = t.instr
    crn, crm, opc2 = d["CRn"], d["CRm"], d["opc2"]
    debug = z3.And(t.is_class("MCR_MRC"), d["coproc"] == 14, d["opc1"] == 0)
    return z3.Implies(
        debug,
        z3.And(
            z3.Implies(z3.And(crn == 0, z3.Or(opc2 == 4, opc2 == 5)), z3.ULE(crm, A15_BREAKPOINTS - 1)),
            z3.Implies(z3.And(crn == 0, z3.Or(opc2 == 6, opc2 == 7)), z3.ULE(crm, A15_WATCHPOINTS - 1)),
            z3.Implies(z3.And(crn == 1, opc2 == 1), z3.Or([crm == n for n in A15_CONTEXT_BREAKPOINTS])),
        ),
    )


def _instruction_rules(t: _Terms) -> list[Rule]:
    d = t.instr
    rn, rt, rt2 = d["Rn"], d["Rt"], d["Rt2"]
    transfers = z3.Implies(
        t.is_class("MCR_MRC", "MCRR_MRRC", "VMRS_VMSR", "MRS", "MRS_banked"), z3.ULE(rt, 12)
    )
    pair = z3.Implies(t.is_class("MCRR_MRRC"), z3.And(z3.ULE(rt2, 12), z3.Implies(d["read"], rt != rt2)))
    literal_load = z3.And(d["read"], d["PUDW"] & 1 == 0)
    base = z3.Implies(t.is_class("LDC_STC"), z3.And(rn != 13, rn != 14, z3.Implies(rn == 15, literal_load)))
    return [
        Rule("BXJ", "the harness refuses BXJ: it may write the PC", [z3.Not(t.is_class("BXJ"))]),
        Rule(
            "Advanced SIMD load/store",
            "the harness refuses element and structure loads and "
            "stores: they access memory it cannot vouch for",
            [z3.Not(t.is_class("AdvSIMDLoadStore"))],
        ),
        Rule(
            "LDC/STC base",
            "the harness runs LDC/STC only with a base register r0-r12 it points "
            "at scratch RAM, or a PC-relative load without writeback",
            [base],
        ),
        Rule(
            "transfer registers",
            "the harness sets and reports r0-r12; r13-r15 as transfer "
            "registers (and MRRC with Rt = Rt2) are UNPREDICTABLE or would change its SP and LR",
            [transfers, pair, z3.Implies(t.is_class("MSR", "MSR_banked"), z3.ULE(rn, 12))],
        ),
        Rule(
            "undecoded words",
            "an instruction the spec does not decode (A32Class_Other) must "
            "be one that simply executes, since the trap decision calls it Execute",
            [z3.Implies(t.is_class("Other"), _plain_instruction(t))],
        ),
        Rule(
            "status writes",
            "CPS and MSR take only forms ARMv7 defines and the harness survives",
            _well_formed_status(t),
        ),
        Rule(
            "allocated encodings",
            "floating-point and Advanced SIMD instructions take allocated "
            "encodings (VMRS and VMSR with their should-be-zero bits clear): the spec decodes those "
            "spaces whole",
            _floating_point_forms(t),
        ),
        Rule(
            "Cortex-A15 debug resources",
            "breakpoint and watchpoint registers exist for the six "
            "breakpoints (two context-matching: 4 and 5) and four watchpoints of Cortex-A15; the "
            "spec's table accepts all sixteen of each",
            [_debug_resources(t)],
        ),
    ]


def harness_rules(spec: Spec, call: SymbolicCall) -> list[Rule]:
    """Everything a vector must satisfy for the trap harness to run it, as Z3 terms."""
    terms = _Terms(spec, call)
    return _register_rules(terms) + _instruction_rules(terms)


# ---- the path search --------------------------------------------------------------------------


def named_guards(call: SymbolicCall) -> tuple[SymbolicCall, list[z3.BoolRef]]:
    """The call with every guard replaced by a Boolean constant, and the constants' definitions.

    The guards of this call share large decode terms. Z3 internalizes what a search adds after
    a push and forgets it at the pop, so checking a big guard costs as much as the guard is
    large, every time. Naming each guard once, at the solver's base level, makes every check
    add one literal: the same paths and witnesses (on the original inputs), about ten times
    faster.
    """
    definitions: list[z3.BoolRef] = []
    names: dict[int, z3.BoolRef] = {}

    def name(guard: Any) -> Any:
        if isinstance(guard, bool) or z3.is_true(guard) or z3.is_false(guard):
            return guard
        key = guard.get_id()
        if key not in names:
            names[key] = z3.Bool(f"guard!{len(names)}")
            definitions.append(names[key] == guard)
        return names[key]

    invocations = [
        Invocation(
            i.function, name(i.reached), [Decision(d.loc, [name(a) for a in d.arms]) for d in i.decisions]
        )
        for i in call.evaluation.invocations
    ]
    return replace(call, evaluation=replace(call.evaluation, invocations=invocations)), definitions


@dataclass
class Search:
    """Witnesses under the harness constraints, and the spec's paths the harness cannot run."""

    witnesses: dict[Path, z3.ModelRef]
    not_runnable: dict[Path, list[str]]  # path -> names of the rules that exclude it


def search(spec: Spec, call: SymbolicCall, progress: Callable[[str], None] = lambda _: None,
           meter: MeterFactory = no_meter) -> Search:
    named, definitions = named_guards(call)
    base = [*call.constraints, *(c for _, c in call.evaluation.assertions), *definitions]
    rules = harness_rules(spec, call)
    functions = {i.function for i in call.evaluation.invocations}
    progress("enumerating feasible paths under the harness constraints")
    with meter(PATHS_FOUND, None) as found:
        witnesses = feasible_paths(named, functions, base + [c for r in rules for c in r.terms],
                                   on_paths=found.advance)
    progress("enumerating the paths the spec can take in the harness's modes")
    entry = [c for r in rules if r.name == "guest entry" for c in r.terms]
    with meter(PATHS_FOUND, None) as found:
        spec_paths = feasible_paths(named, functions, base + entry, on_paths=found.advance)
    missing = sorted(set(spec_paths) - set(witnesses))
    excluded = excluding_rules(missing, lambda path: call_condition(named, path), base + entry, rules)
    return Search(witnesses, excluded)


def witness_stimulus(spec: Spec, call: SymbolicCall, model: z3.ModelRef) -> tuple[Stimulus, dict[str, int]]:
    opcode = model_value(model, call.args[0], Bits(32))
    registers = {
        name: model_value(model, call.inputs[name], spec.program.globals[name].ty) for name in STATE_REGISTERS
    }
    gprs = harness_gprs(spec, opcode, registers["CPSR"])
    return Stimulus(opcode, registers, gprs), unknown_values(model, call)


# ---- one vector -------------------------------------------------------------------------------


def _state(spec: Spec, stimulus: Stimulus, oracle: Oracle) -> State:
    state = spec.state(**stimulus.registers)
    state.oracle = oracle
    return state


def _decision(spec: Spec, stimulus: Stimulus, oracle: Oracle) -> tuple[str, int]:
    outcome, hsr = spec.compiled.function(OPERATION)(_state(spec, stimulus, oracle), stimulus.opcode)
    return spec.decode(outcome, spec.program.records["Model.TrapResult"].fields[0][1]), hsr


def _exception_return(spec: Spec, stimulus: Stimulus, outcome: str, hsr: int) -> dict[str, Any] | None:
    """Where the spec's exception entry puts the return address, relative to the instruction.

    The outcome names the exception: a Hyp trap enters through `AArch32.TakeHVCException` (EC
    0x12), `AArch32.TakeSVCException` (EC 0x11), `AArch32.TakeUndefInstrException` (EC 0x00,
    an UNDEFINED routed by HCR.TGE), `AArch32.TakePrefetchAbortException` (EC 0x20, a BKPT's
    debug exception routed by HDCR.TDE) or `AArch32.TakeHypTrapException`; an UNDEFINED
    instruction, a Supervisor Call and a debug exception enter Undefined, Supervisor and Abort
    mode. A Secure Monitor Call leaves the model, and an executed instruction takes no exception.
    """
    state = spec.state(**stimulus.registers, _PC=NOMINAL_PC)
    if outcome == "TrapOutcome_HypTrap" and hsr >> 26 == EC_PREFETCH_ABORT:
        spec.call("AArch32.TakePrefetchAbortException", spec.call("AArch32.DebugFault"), hsr, state=state)
        register, value = "ELR_hyp", state.ELR_hyp
    elif outcome == "TrapOutcome_HypTrap":
        entry = {
            0x12: "AArch32.TakeHVCException",
            0x11: "AArch32.TakeSVCException",
            0x00: "AArch32.TakeUndefInstrException",
        }.get(hsr >> 26, "AArch32.TakeHypTrapException")
        spec.call(entry, hsr, state=state)
        register, value = "ELR_hyp", state.ELR_hyp
    elif outcome == "TrapOutcome_Undefined":
        spec.call("AArch32.TakeUndefInstrException", 0, state=state)
        register, value = "LR_und", spec.call("Rmode", 14, 0x1B, state=state)
    elif outcome == "TrapOutcome_SupervisorCall":
        spec.call("AArch32.TakeSVCException", 0, state=state)
        register, value = "LR_svc", spec.call("Rmode", 14, 0x13, state=state)
    elif outcome == "TrapOutcome_DebugException":
        spec.call("AArch32.TakePrefetchAbortException", spec.call("AArch32.DebugFault"), 0, state=state)
        register, value = "LR_abt", spec.call("Rmode", 14, 0x17, state=state)
    else:
        return None
    return {"register": register, "offset": (value - NOMINAL_PC) & WORD}


def _decisive_candidates(spec: Spec) -> list[tuple[str, str, int, int]]:
    """The fields flags may name as deciding an outcome: every one-bit field of the registers
    `Model.TrapDecision` reads, and CPACR.cp10."""
    found = []
    for register in STATE_REGISTERS[1:]:
        layout = spec.program.globals[register].ty.layout  # type: ignore[attr-defined]
        for name, hi, lo in layout.fields:
            if hi == lo or (register, name) == ("CPACR", "cp10"):
                found.append((register, name, hi, lo))
    return found


def decisive_controls(spec: Spec, stimulus: Stimulus) -> list[str]:
    """`<REGISTER>_<FIELD>_<value>` for each control whose value decides: changing it alone
    changes the spec's decision (for example `HCR_TWE_1`, `FPEXC_EN_0`, `CPACR_CP10_3`).

    Each one-bit field is flipped, CPACR.cp10 takes each other value; every UNKNOWN is held at
    zero and then at ones, so that only the decision itself is compared, under each of the
    choices the spec leaves open (a `WFE` under `HCR.TWE` traps only if it would wait).
    """

    def decision(registers: dict[str, int]) -> tuple[tuple[str, int], ...]:
        varied = replace(stimulus, registers=registers)
        return tuple(_decision(spec, varied, FilledOracle(fill)) for fill in (0, -1))

    reference = decision(stimulus.registers)
    found = []
    for register, name, hi, lo in _decisive_candidates(spec):
        value = stimulus.registers[register]
        width = hi - lo + 1
        current = (value >> lo) & ((1 << width) - 1)
        for other in range(1 << width):
            if other == current:
                continue
            changed = value & ~(((1 << width) - 1) << lo) | other << lo
            if decision({**stimulus.registers, register: changed}) != reference:
                found.append(f"{register}_{name}_{current}".upper())
                break
    return found


def accessed_register(spec: Spec, instr: dict[str, Any]) -> str | None:
    """The `Model.SysReg` member an instruction accesses (SysReg_None for an encoding the spec's
    tables do not list), or None for an instruction that is not a system register access."""
    iclass, coproc = instr["iclass"], instr["coproc"]
    if iclass == "A32Class_VMRS_VMSR":
        return spec.call("Model.FPSysReg", instr["CRn"])
    if coproc not in (14, 15):
        return None
    if iclass == "A32Class_MCR_MRC":
        table = "Model.CP15Reg" if coproc == 15 else "Model.CP14Reg"
        return spec.call(table, instr["CRn"], instr["opc1"] & 7, instr["CRm"], instr["opc2"])
    if iclass == "A32Class_MCRR_MRRC":
        table = "Model.CP15Reg64" if coproc == 15 else "Model.CP14Reg64"
        return spec.call(table, instr["opc1"], instr["CRm"])
    if iclass == "A32Class_LDC_STC" and coproc == 14:
        return "SysReg_DBGDTRint" if instr["CRd"] == 5 and not instr["PUDW"] & 2 else "SysReg_None"
    return None


def _in_allocated_cp15_space(instr: dict[str, Any]) -> bool:
    """A CP15 transfer whose major register (CRn, or CRm for MCRR/MRRC) is allocated: every
    major register but c4 in ARMv7-A with the Security and Virtualization Extensions."""
    if instr["coproc"] != 15:
        return False
    major = instr["CRm"] if instr["iclass"] == "A32Class_MCRR_MRRC" else instr["CRn"]
    return instr["iclass"] in ("A32Class_MCR_MRC", "A32Class_MCRR_MRRC") and major != 4


def _unpredictable(spec: Spec, stimulus: Stimulus, instr: dict[str, Any], register: str | None) -> list[str]:
    """The ARMv7 UNPREDICTABLE cases the spec resolves as ARMv8 does (its Deviation notes)."""
    iclass, regs = instr["iclass"], stimulus.registers
    usr = stimulus.mode == "usr"
    hdcr = regs["HDCR"]
    tde, tda, tdosa, tdra = (bool(hdcr >> bit & 1) for bit in (8, 9, 10, 11))
    fp = iclass in ("A32Class_VMRS_VMSR", "A32Class_AdvSIMD") or (
        iclass in ("A32Class_MCR_MRC", "A32Class_MCRR_MRRC", "A32Class_LDC_STC", "A32Class_CDP")
        and instr["coproc"] in (10, 11)
    )
    banked = iclass in ("A32Class_MRS_banked", "A32Class_MSR_banked")
    cases = {
        "CONDITIONAL_HVC": iclass == "A32Class_HVC" and instr["cond"] != 0xE,
        "SPSR_IN_USER_MODE": usr
        and (
            iclass == "A32Class_ERET"
            or (iclass in ("A32Class_MRS", "A32Class_MSR", "A32Class_MSR_imm") and instr["spsr"])
        ),
        "INVALID_BANKED_ACCESS": banked
        and not spec.call(
            "Model.BankedAccessValid", instr["spsr"], instr["SYSm"], state=spec.state(CPSR=regs["CPSR"])
        ),
        "UNALLOCATED_ENCODING": register == "SysReg_None" and not usr and _in_allocated_cp15_space(instr),
        "RESERVED_CPACR": fp and (regs["CPACR"] >> 20) & 3 == 0b10,
        "HDCR_TRAP_COMBINATION": (tde and not (tda and tdosa and tdra)) or (tda and not (tdosa and tdra)),
        # VMSR and VMRS of a register other than FPSID, FPSCR and FPEXC, and VMSR of MVFR0 and
        # MVFR1, are SUBARCHITECTURE DEFINED in ARMv7 (the VMSR and VMRS pseudocode).
        "FP_SUBARCHITECTURE": iclass == "A32Class_VMRS_VMSR"
        and not usr
        and (instr["CRn"] not in (0, 1, 6, 7, 8) or (not instr["read"] and instr["CRn"] in (6, 7))),
    }
    named = [f"UNPREDICTABLE_{name}" for name, holds in cases.items() if holds]
    return ["UNPREDICTABLE_IN_ARMV7", *named] if named else []


def vector_flags(spec: Spec, stimulus: Stimulus) -> list[str]:
    """Descriptive flags, for reading a report and for keying known deviations:

    * `CLASS_<class>`: the spec's decoded instruction class (`CLASS_MCR_MRC`, `CLASS_WFE`, ...);
    * `SYSREG_<register>` for a system register access, or `UNLISTED_REGISTER` when the
      encoding is not in the spec's register tables;
    * `CONDITIONAL` for a condition other than AL (and not the unconditional space);
    * `<REGISTER>_<FIELD>_<value>` for each control whose value decides the outcome
      (`decisive_controls`);
    * `UNPREDICTABLE_IN_ARMV7` when ARMv7 leaves the case UNPREDICTABLE and the spec follows the
      behaviour ARMv8 defines, with `UNPREDICTABLE_<case>` naming the case;
    * `HSTR_BEFORE_UNDEFINED` when HSTR traps a PL1 access that would otherwise be UNDEFINED.
    """
    instr = decoded(spec, stimulus.opcode)
    iclass = instr["iclass"]
    flags = {"CLASS_" + iclass.removeprefix("A32Class_").upper()}
    register = accessed_register(spec, instr)
    if register == "SysReg_None":
        flags.add("UNLISTED_REGISTER")
    elif register is not None:
        flags.add("SYSREG_" + register.removeprefix("SysReg_").upper())
    if iclass != "A32Class_Other" and instr["cond"] not in (0xE, 0xF):
        flags.add("CONDITIONAL")
    flags.update(decisive_controls(spec, stimulus))
    flags.update(_unpredictable(spec, stimulus, instr, register))
    if _hstr_before_undefined(spec, stimulus, instr, register):
        flags.add("HSTR_BEFORE_UNDEFINED")
    return sorted(flags)


def _hstr_before_undefined(
    spec: Spec, stimulus: Stimulus, instr: dict[str, Any], register: str | None
) -> bool:
    """Whether HSTR traps a PL1 CP15 access that would otherwise be UNDEFINED (an unallocated
    encoding, a Hyp-only register, a write to a read-only one): rule 2 of spec/04."""
    if stimulus.mode != "svc" or register is None or instr["coproc"] != 15:
        return False
    if instr["iclass"] not in ("A32Class_MCR_MRC", "A32Class_MCRR_MRRC"):
        return False
    major = instr["CRn"] if instr["iclass"] == "A32Class_MCR_MRC" else instr["CRm"]
    if major in (4, 14) or not stimulus.registers["HSTR"] >> major & 1:
        return False
    state = _state(spec, stimulus, FilledOracle(0))
    verdict = spec.call("Model.SysRegAccess", register, instr["read"], 1, state=state)
    return verdict == "Verdict_Undefined"


def _expected_outcome(spec: Spec, stimulus: Stimulus, outcome: str, hsr: int) -> dict[str, Any]:
    """A vector's `expected` fields for one outcome: its name, HSR for a trap, the return address."""
    expected: dict[str, Any] = {
        "outcome": OUTCOMES[outcome],
        "registers": {"HSR": _hex(hsr)} if outcome == "TrapOutcome_HypTrap" else {},
    }
    returned = _exception_return(spec, stimulus, outcome, hsr)
    if returned is not None:
        expected["return_address"] = returned
    return expected


def _unknown_variants(
    spec: Spec, stimulus: Stimulus, seed: int, chosen: dict[str, int]
) -> list[tuple[str, int]]:
    """The decision with each UNKNOWN the run chose set, one at a time, to all zeros and all ones.

    The outcomes that differ from the run's are the other behaviours the spec permits (a `WFE`
    under `HCR.TWE` may trap or complete); the HSR bits that differ between the trapping ones are
    the UNKNOWN bits the vector masks. A variant may reach an UNKNOWN the run did not (the trap
    syndrome of a `WFE` that completed in the run): that one is then varied in the variant's own
    choices, where it is reached, until no new one turns up.
    """
    pending = [(chosen, location) for location in sorted(chosen)]
    seen, variants = set(chosen), []
    while pending:
        context, location = pending.pop()
        for fill in (0, -1):
            oracle = Oracle(seed, overrides={**context, location: fill})
            variants.append(_decision(spec, stimulus, oracle))
            for new in sorted(set(oracle.chosen) - seen):
                seen.add(new)
                pending.append((dict(oracle.chosen), new))
    return variants


def make_vector(
    spec: Spec,
    vector_id: str,
    kind: str,
    stimulus: Stimulus,
    seed: int,
    overrides: dict[str, int] | None = None,
    row: str | None = None,
) -> tuple[dict[str, Any], list[Path]]:
    """A vector's JSON record and the paths its concrete run took."""
    state = _state(spec, stimulus, Oracle(seed, overrides=dict(overrides or {})))
    (outcome, hsr), paths = traced_paths(spec, OPERATION, state, [stimulus.opcode])
    outcome = spec.decode(outcome, spec.program.records["Model.TrapResult"].fields[0][1])
    variants = _unknown_variants(spec, stimulus, seed, dict(state.oracle.chosen))
    trapped = [h for o, h in [(outcome, hsr), *variants] if o == "TrapOutcome_HypTrap"]
    unknown_bits = 0
    for value in trapped:
        unknown_bits |= value ^ trapped[0]
    instr = decoded(spec, stimulus.opcode)
    expected: dict[str, Any] = {
        **_expected_outcome(spec, stimulus, outcome, hsr),
        "spec_only": {"class": instr["iclass"], "cond": _hex(instr["cond"])},
    }
    others = {o: h for o, h in variants if o != outcome}
    if others:
        expected["alternatives"] = [
            _expected_outcome(spec, stimulus, other, others[other]) for other in sorted(others)
        ]
    masks = {"HSR": _hex(~unknown_bits & WORD)}
    record: dict[str, Any] = {
        "id": vector_id,
        "kind": kind,
        "flags": vector_flags(spec, stimulus),
        "state": {
            "registers": {name: _hex(stimulus.registers[name]) for name in STATE_REGISTERS},
            "gprs": {f"r{n}": _hex(v) for n, v in sorted(stimulus.gprs.items())},
        },
        "operation": {"name": OPERATION, "opcode": f"{stimulus.opcode:#010x}", "mode": stimulus.mode},
        "expected": expected,
        "masks": masks,
        "paths": sorted({p.key for p in paths}),
    }
    if row is not None:
        record["row"] = row
    trap_case.validate(to_case(vector_id, stimulus))
    return record, paths


# ---- the catalogue ----------------------------------------------------------------------------

AL = 0xE


def mcr(coproc: int, opc1: int, crn: int, crm: int, opc2: int = 0, rt: int = 0) -> int:
    """MCR (ARM DDI 0406C.d §A8.8.98, A1): cond 1110 opc1 0 CRn Rt coproc opc2 1 CRm."""
    return (
        AL << 28 | 0b1110 << 24 | opc1 << 21 | crn << 16 | rt << 12 | coproc << 8 | opc2 << 5 | 1 << 4 | crm
    )


def mrc(coproc: int, opc1: int, crn: int, crm: int, opc2: int = 0, rt: int = 0) -> int:
    """MRC (§A8.8.107, A1): MCR with bit 20 (L) set."""
    return mcr(coproc, opc1, crn, crm, opc2, rt) | 1 << 20


def mcrr(coproc: int, opc1: int, crm: int, rt: int = 0, rt2: int = 1) -> int:
    """MCRR (§A8.8.99, A1): cond 1100 0100 Rt2 Rt coproc opc1 CRm."""
    return AL << 28 | 0b1100_0100 << 20 | rt2 << 16 | rt << 12 | coproc << 8 | opc1 << 4 | crm


def mrrc(coproc: int, opc1: int, crm: int, rt: int = 0, rt2: int = 1) -> int:
    """MRRC (§A8.8.108, A1): MCRR with bit 20 set."""
    return mcrr(coproc, opc1, crm, rt, rt2) | 1 << 20


def vmrs(reg: int, rt: int = 0) -> int:
    """VMRS (§B6.1.12 / §A8.8.389, A1): cond 1110 1111 reg Rt 1010 0001 0000."""
    return 0xEEF0_0A10 | reg << 16 | rt << 12


def mrs_banked(sysm: int, spsr: bool = False, rd: int = 0) -> int:
    """MRS (Banked register) (§B9.3.9, A1): cond 0001 0R00 m1 Rd 001m 0000 0000, SYSm = m:m1."""
    return (
        AL << 28 | 0b00010 << 23 | spsr << 22 | (sysm & 0xF) << 16 | rd << 12 | 0b001 << 9 | (sysm >> 4) << 8
    )


def msr_banked(sysm: int, spsr: bool = False, rn: int = 0) -> int:
    """MSR (Banked register) (§B9.3.10, A1): cond 0001 0R10 m1 1111 001m 0000 Rn."""
    return (
        AL << 28
        | 0b00010 << 23
        | spsr << 22
        | 0b10 << 20
        | (sysm & 0xF) << 16
        | 0b1111001 << 9
        | (sysm >> 4) << 8
        | rn
    )


WFI = 0xE320_F003  # §A8.8.425: cond 0011 0010 0000 1111 0000 0000 0011
WFE = 0xE320_F002  # §A8.8.424: ... 0010
SMC_0 = 0xE160_0070  # §B9.3.14: cond 0001 0110 0000 0000 0000 0111 imm4
HVC_1234 = 0xE141_2374  # §B9.3.4: cond 0001 0100 imm12 0111 imm4, imm16 = 0x1234
BKPT_0 = 0xE120_0070  # §A8.8.24: cond 0001 0010 imm12 0111 imm4, imm16 = 0
SVC_42 = 0xEF00_0042  # §A8.8.228: cond 1111 imm24
VMOV_D0_R0_R1 = 0xEC41_0B10  # §A8.8.345 (VMOV two ARM registers to a doubleword): a CP11 MCRR
VADD_I32 = 0xF220_0800  # §A8.8.282 (VADD integer, A1): 1111 0010 0 D 10 Vn Vd 1000 N Q M 0 Vm
FPSID, FPSCR, MVFR0 = 0, 1, 7
ELR_HYP_SYSM, SPSR_HYP_SYSM = 0b11110, 0b11110

#: The trap controls of HCR (§B4.1.65), bit by bit.
HCR_BITS = {
    name: 1 << bit
    for name, bit in (
        ("TWI", 13),
        ("TWE", 14),
        ("TID0", 15),
        ("TID1", 16),
        ("TID2", 17),
        ("TID3", 18),
        ("TSC", 19),
        ("TIDCP", 20),
        ("TAC", 21),
        ("TSW", 22),
        ("TPC", 23),
        ("TPU", 24),
        ("TTLB", 25),
        ("TVM", 26),
        ("TGE", 27),
    )
}
HCPTR_TCP10_11 = 1 << 10 | 1 << 11
HDCR_TPMCR, HDCR_TPM, HDCR_TDE, HDCR_TDA, HDCR_TDOSA, HDCR_TDRA = (1 << n for n in (5, 6, 8, 9, 10, 11))
PL1PCTEN, PL1PCEN = 1 << 0, 1 << 1  # CNTHCTL
PL0PCTEN, PL0VCTEN, PL0VTEN, PL0PTEN = 1 << 0, 1 << 1, 1 << 8, 1 << 9  # CNTKCTL


@dataclass(frozen=True)
class Row:
    """One trap control, a representative instruction, and the setting that arms it.

    `registers` are written over the harness baseline (HCR values are ORed with HCR.IMO);
    `modes` are the guest modes the row runs in.
    """

    name: str
    opcode: int
    registers: dict[str, int]
    modes: tuple[str, ...] = MODES


def _hcr(name: str, opcode: int, **extra: int) -> Row:
    return Row(f"HCR.{name}", opcode, {"HCR": HCR_BITS[name], **extra})


def _hstr(n: int, opcode: int, label: str = "") -> Row:
    return Row(f"HSTR.T{n}{label}", opcode, {"HSTR": 1 << n})


CATALOGUE: tuple[Row, ...] = (
    # HCR (ARM DDI 0406C.d §B4.1.65; the traps of §B1.14)
    _hcr("TWI", WFI),
    _hcr("TWE", WFE),
    _hcr("TSC", SMC_0),
    _hcr("TVM", mcr(15, 0, 1, 0, 0)),  # SCTLR write
    _hcr("TTLB", mcr(15, 0, 8, 7, 0)),  # TLBIALL
    _hcr("TPU", mcr(15, 0, 7, 5, 0)),  # ICIALLU
    _hcr("TPC", mcr(15, 0, 7, 14, 1)),  # DCCIMVAC
    _hcr("TSW", mcr(15, 0, 7, 6, 2)),  # DCISW
    _hcr("TAC", mrc(15, 0, 1, 0, 1)),  # ACTLR read
    _hcr("TIDCP", mrc(15, 1, 9, 0, 2)),  # L2CTLR read
    _hcr("TID0", vmrs(FPSID)),
    _hcr("TID1", mrc(15, 0, 0, 0, 3)),  # TLBTR read
    _hcr("TID2", mrc(15, 0, 0, 0, 1)),  # CTR read
    _hcr("TID3", mrc(15, 0, 0, 1, 0)),  # ID_PFR0 read
    Row("HCR.TID3 (VMRS MVFR0)", vmrs(MVFR0), {"HCR": HCR_BITS["TID3"]}),
    # TGE only with a User-mode guest: the harness refuses it with SVC (ARMv8 makes it illegal).
    Row("HCR.TGE", mrc(15, 0, 1, 0, 0), {"HCR": HCR_BITS["TGE"]}, ("usr",)),  # UNDEFINED at PL0
    Row("HCR.TGE (SVC)", SVC_42, {"HCR": HCR_BITS["TGE"]}, ("usr",)),
    # HSTR (§B4.1.73): T<n> by primary register; no T4, no T14
    _hstr(0, mrc(15, 0, 0, 0, 0)),  # MIDR
    _hstr(1, mrc(15, 0, 1, 0, 0)),  # SCTLR
    _hstr(2, mrc(15, 0, 2, 0, 2)),  # TTBCR
    _hstr(2, mrrc(15, 0, 2), " (MRRC TTBR0)"),
    _hstr(3, mrc(15, 0, 3, 0, 0)),  # DACR
    _hstr(5, mrc(15, 0, 5, 0, 0)),  # DFSR
    _hstr(6, mrc(15, 0, 6, 0, 0)),  # DFAR
    _hstr(7, mrc(15, 0, 7, 4, 0)),  # PAR
    _hstr(8, mcr(15, 0, 8, 7, 0)),  # TLBIALL
    _hstr(9, mrc(15, 0, 9, 12, 0)),  # PMCR
    _hstr(10, mrc(15, 0, 10, 2, 0)),  # PRRR
    _hstr(11, mrc(15, 0, 11, 0, 0)),  # nothing at c11 on Cortex-A15: HSTR.T11 still traps it at PL1
    _hstr(12, mrc(15, 0, 12, 0, 0)),  # VBAR
    _hstr(13, mrc(15, 0, 13, 0, 1)),  # CONTEXTIDR
    _hstr(15, mrc(15, 4, 15, 0, 0)),  # CBAR
    Row("HSTR.TTEE", mrc(14, 6, 0, 0, 0), {"HSTR": 1 << 16}),  # TEECR
    Row("HSTR.TJDBX", mrc(14, 7, 1, 0, 0), {"HSTR": 1 << 17}),  # JOSCR
    # HCPTR (§B4.1.64); TCP10 and TCP11 must be equal in ARMv7
    Row("HCPTR.TCP10", vmrs(FPSCR), {"HCPTR": HCPTR_TCP10_11}),
    Row("HCPTR.TCP11", VMOV_D0_R0_R1, {"HCPTR": HCPTR_TCP10_11}),
    Row("HCPTR.TASE", VADD_I32, {"HCPTR": 1 << 15}),
    Row("HCPTR.TTA", mrc(14, 1, 0, 0, 0), {"HCPTR": 1 << 20}),  # a CP14 trace register
    Row("HCPTR.TCPAC", mrc(15, 0, 1, 0, 2), {"HCPTR": 1 << 31}),  # CPACR read
    # HDCR (§B4.1.66); TDA needs TDRA and TDOSA in ARMv7
    Row("HDCR.TPM", mrc(15, 0, 9, 13, 0), {"HDCR": HPMN | HDCR_TPM}),  # PMCCNTR
    Row("HDCR.TPMCR", mrc(15, 0, 9, 12, 0), {"HDCR": HPMN | HDCR_TPMCR}),  # PMCR
    Row("HDCR.TDA", mrc(14, 0, 0, 1, 0), {"HDCR": HPMN | HDCR_TDA | HDCR_TDRA | HDCR_TDOSA}),  # DBGDSCRint
    Row("HDCR.TDRA", mrc(14, 0, 1, 0, 0), {"HDCR": HPMN | HDCR_TDRA}),  # DBGDRAR
    Row("HDCR.TDOSA", mrc(14, 0, 1, 1, 4), {"HDCR": HPMN | HDCR_TDOSA}),  # DBGOSLSR
    # CNTHCTL (§B4.1.26): an enable clear traps; CNTKCTL lets User mode reach the check
    Row("CNTHCTL.PL1PCTEN", mrrc(15, 0, 14, 2, 3), {"CNTHCTL": PL1PCEN, "CNTKCTL": PL0PCTEN}),  # CNTPCT
    Row("CNTHCTL.PL1PCEN", mrc(15, 0, 14, 2, 1), {"CNTHCTL": PL1PCTEN, "CNTKCTL": PL0PTEN}),  # CNTP_CTL
    # CNTKCTL (§B4.1.28): the User-mode enables (UNDEFINED when clear, not a Hyp trap)
    Row("CNTKCTL.PL0PCTEN", mrrc(15, 0, 14, 2, 3), {"CNTKCTL": PL0PCTEN}),  # CNTPCT
    Row("CNTKCTL.PL0VCTEN", mrrc(15, 1, 14, 2, 3), {"CNTKCTL": PL0VCTEN}),  # CNTVCT
    Row("CNTKCTL.PL0VTEN", mrc(15, 0, 14, 3, 1), {"CNTKCTL": PL0VTEN}),  # CNTV_CTL
    Row("CNTKCTL.PL0PTEN", mrc(15, 0, 14, 2, 1), {"CNTKCTL": PL0PTEN}),  # CNTP_CTL
    # The PL1 controls that come before every HCPTR trap
    Row("CPACR.cp10 (no access)", vmrs(FPSCR), {"CPACR": 0, "HCPTR": HCPTR_TCP10_11}),
    Row("FPEXC.EN", vmrs(FPSCR), {"FPEXC": 0}),
    Row("CPACR.ASEDIS", VADD_I32, {"CPACR": 1 << 31 | 0xF << 20}),
    Row("CPACR.TRCDIS", mrc(14, 1, 0, 0, 0), {"CPACR": 1 << 28 | 0xF << 20, "HCPTR": 1 << 20}),
    # Debug exceptions (§B1.8.8, §B4.1.66): a BKPT goes to the guest's Abort mode, or with
    # HDCR.TDE (and the TDA, TDRA, TDOSA that ARMv7 requires beside it) to Hyp mode as EC 0x20
    Row("BKPT", BKPT_0, {}),
    Row("HDCR.TDE", BKPT_0, {"HDCR": HPMN | HDCR_TDE | HDCR_TDA | HDCR_TDRA | HDCR_TDOSA}),
    # Calls (§B1.14, §B9.3)
    Row("HVC", HVC_1234, {}),
    Row("SMC", SMC_0, {}),
    # Registers and operations that exist only in Hyp mode (§B4.2): UNDEFINED, never trapped
    Row("Hyp-only MRC HCR", mrc(15, 4, 1, 1, 0), {}),
    Row("Hyp-only MCR HVBAR", mcr(15, 4, 12, 0, 0), {}),
    Row("Hyp-only MCR TLBIALLH", mcr(15, 4, 8, 7, 0), {}),
    Row("Hyp-only MRRC VTTBR", mrrc(15, 6, 2), {}),
    Row("Hyp-only MRRC CNTVOFF", mrrc(15, 4, 14), {}),
    Row("Hyp-only MRS ELR_hyp", mrs_banked(ELR_HYP_SYSM), {}),
    Row("Hyp-only MSR SPSR_hyp", msr_banked(SPSR_HYP_SYSM, spsr=True), {}),
)


def catalogue_stimulus(spec: Spec, row: Row, mode: str) -> Stimulus:
    registers = baseline(mode)
    for name, value in row.registers.items():
        registers[name] = value | (trap_case.HCR_FORCED if name == "HCR" else 0)
    return Stimulus(row.opcode, registers, harness_gprs(spec, row.opcode, registers["CPSR"]))


def catalogue_id(row: Row, mode: str) -> str:
    slug = "".join(ch if ch.isalnum() else "-" for ch in row.name.lower())
    return f"traps-c-{'-'.join(filter(None, slug.split('-')))}-{mode}"


# ---- random vectors ---------------------------------------------------------------------------


@cache
def _table_encodings(spec: Spec, function: str, width: int) -> tuple[int, ...]:
    """Every field combination a register-table function maps to a register (SysReg_None not)."""
    run = spec.compiled.function(function)
    state = spec.state()
    if width == 14:
        found = [k for k in range(1 << 14) if run(state, k >> 10, (k >> 7) & 7, (k >> 3) & 15, k & 7) != 0]
    else:
        found = [k for k in range(1 << 8) if run(state, k >> 4, k & 15) != 0]
    return tuple(found)


def _cond(rng: random.Random) -> int:
    return AL if rng.random() < 0.75 else rng.randrange(15)


def _with_cond(rng: random.Random, word: int) -> int:
    return _cond(rng) << 28 | (word & 0x0FFF_FFFF)


def a15_debug_resource(crn: int, opc1: int, crm: int, opc2: int) -> bool:
    """Whether a CP14 encoding is within Cortex-A15's breakpoints and watchpoints (see
    `_debug_resources`, the same rule as a Z3 term)."""
    if opc1 != 0:
        return True
    if crn == 0 and opc2 in (4, 5):
        return crm < A15_BREAKPOINTS
    if crn == 0 and opc2 in (6, 7):
        return crm < A15_WATCHPOINTS
    return not (crn == 1 and opc2 == 1) or crm in A15_CONTEXT_BREAKPOINTS


def _register_transfer(spec: Spec, rng: random.Random, coproc: int) -> int:
    table = "Model.CP15Reg" if coproc == 15 else "Model.CP14Reg"
    while True:
        if coproc in (14, 15) and rng.random() < 0.8:
            key = rng.choice(_table_encodings(spec, table, 14))
        else:
            key = rng.randrange(1 << 14)
        crn, opc1, crm, opc2 = key >> 10, (key >> 7) & 7, (key >> 3) & 15, key & 7
        if coproc != 14 or a15_debug_resource(crn, opc1, crm, opc2):
            break
    word = mcr(coproc, opc1, crn, crm, opc2, rng.randrange(13)) | rng.randrange(2) << 20
    return _with_cond(rng, word)


def _register_pair(spec: Spec, rng: random.Random, coproc: int) -> int:
    table = "Model.CP15Reg64" if coproc == 15 else "Model.CP14Reg64"
    key = rng.choice(_table_encodings(spec, table, 8)) if rng.random() < 0.8 else rng.randrange(256)
    rt, rt2 = rng.sample(range(13), 2)
    word = mcrr(coproc, key >> 4, key & 15, rt, rt2) | rng.randrange(2) << 20
    return _with_cond(rng, word)


def _floating_point(rng: random.Random) -> int:
    rt, rt2 = rng.sample(range(13), 2)
    vd = rng.randrange(16)
    choice = rng.randrange(7)
    if choice == 0:  # VMOV between a core register and a single, either way
        word = (
            0xEE00_0A10 | rng.randrange(2) << 20 | rng.randrange(16) << 16 | rt << 12 | rng.randrange(2) << 7
        )
    elif choice == 1:  # VMOV.32 between a core register and a scalar
        word = 0xEE00_0B10 | rng.randrange(2) << 21 | rng.randrange(2) << 20 | vd << 16 | rt << 12
    elif choice == 2:  # VMOV between two core registers and a doubleword (CP11) or two singles
        word = 0xEC40_0A10 | rng.randrange(2) << 20 | rt2 << 16 | rt << 12 | rng.randrange(2) << 8 | vd
    elif choice == 3:  # VADD.F32 / VADD.F64
        word = (
            0xEE30_0A00 | rng.randrange(2) << 22 | vd << 16 | rng.randrange(16) << 12 | rng.randrange(2) << 8
        )
    elif choice == 4:  # VLDR / VSTR, base r0-r12 (or PC for a load)
        load = rng.randrange(2)
        rn = rng.randrange(13) if not load or rng.random() < 0.8 else 15
        word = (
            0xED00_0A00
            | rng.randrange(2) << 23
            | load << 20
            | rn << 16
            | vd << 12
            | rng.randrange(2) << 8
            | rng.randrange(256)
        )
    elif choice == 5:  # VMRS / VMSR, any register number
        word = 0xEEE0_0A10 | rng.randrange(2) << 20 | rng.randrange(16) << 16 | rt << 12
    else:  # Advanced SIMD VADD (integer), D registers
        return (
            (VADD_I32 & 0xFF80_0F50)
            | rng.randrange(4) << 20
            | rng.randrange(16) << 16
            | vd << 12
            | rng.randrange(16)
        )
    return _with_cond(rng, word)


def _coprocessor(spec: Spec, rng: random.Random) -> int:
    choice = rng.randrange(10)
    if choice < 4:
        return _register_transfer(spec, rng, 15)
    if choice < 6:
        return _register_transfer(spec, rng, 14)
    if choice == 6:
        return _register_pair(spec, rng, rng.choice((14, 15)))
    if choice == 7:  # LDC/STC to CP14 (DBGDTR at CRd = c5) or another coprocessor
        puw = rng.choice([p for p in range(8) if p & 0b101 or p & 0b010])
        p, u, w = puw >> 2, puw >> 1 & 1, puw & 1
        rn = rng.randrange(13)
        coproc = 14 if rng.random() < 0.7 else rng.choice((0, 5, 13, 15))
        crd = 5 if rng.random() < 0.6 else rng.randrange(16)
        word = (
            0x0C00_0000
            | p << 24
            | u << 23
            | w << 21
            | rng.randrange(2) << 20
            | rn << 16
            | crd << 12
            | coproc << 8
            | rng.randrange(256)
        )
        return _with_cond(rng, word)
    if choice == 8:  # CDP to a coprocessor that is not the FPU (UNDEFINED)
        opc1, crn, crd, opc2, crm = (rng.randrange(n) for n in (16, 16, 16, 8, 16))
        coproc = rng.choice((0, 7, 14, 15))
        word = 0x0E00_0000 | opc1 << 20 | crn << 16 | crd << 12 | coproc << 8 | opc2 << 5 | crm
        return _with_cond(rng, word)
    return _with_cond(
        rng,
        mcr(
            rng.choice((0, 3, 9, 12, 13)),
            rng.randrange(8),
            rng.randrange(16),
            rng.randrange(16),
            rng.randrange(8),
            rng.randrange(13),
        )
        | rng.randrange(2) << 20,
    )


def _status(rng: random.Random, cpsr: int) -> int:
    rd = rng.randrange(13)
    choice = rng.randrange(6)
    if choice == 0:  # MRS Rd, CPSR / SPSR
        return _with_cond(rng, 0x010F_0000 | rng.randrange(2) << 22 | rd << 12)
    if choice == 1:  # MSR CPSR/SPSR, Rn (the value is the CPSR itself: see harness_gprs)
        return _with_cond(rng, 0x0120_F000 | rng.randrange(2) << 22 | rng.randrange(1, 16) << 16 | rd)
    if choice == 2:  # MSR immediate: the flags, or the control field with its current value
        if rng.randrange(2):
            return _with_cond(rng, 0x0328_F000 | rng.randrange(2) << 22 | rng.randrange(4096))
        return _with_cond(rng, 0x0321_F000 | rng.randrange(2) << 22 | (cpsr & 0xFF))
    sysm = rng.randrange(32)
    if choice == 3:
        return _with_cond(rng, mrs_banked(sysm, bool(rng.randrange(2)), rd))
    if choice == 4:
        return _with_cond(rng, msr_banked(sysm, bool(rng.randrange(2)), rd))
    if rng.randrange(2):  # CPS: change mode
        return 0xF102_0000 | rng.choice((0x10, 0x11, 0x12, 0x13, 0x17, 0x1B, 0x1F))
    return 0xF100_0000 | rng.choice((0b10, 0b11)) << 18 | rng.randrange(1, 8) << 6  # CPSIE/CPSID


def _plain(rng: random.Random) -> int:
    choice = rng.randrange(4)
    if choice == 0:  # data-processing immediate, Rd != PC, not a compare (MOV, MVN: Rn = 0)
        op = rng.choice([o for o in range(32) if o >> 3 != 0b10])
        rn = 0 if op >> 1 in (0b1101, 0b1111) else rng.randrange(16)
        return _with_cond(
            rng, 0x0200_0000 | op << 20 | rn << 16 | rng.randrange(15) << 12 | rng.randrange(4096)
        )
    if choice == 1:  # CLZ
        return _with_cond(rng, 0x016F_0F10 | rng.randrange(15) << 12 | rng.randrange(15))
    if choice == 2:  # NOP, YIELD, SEV, DBG
        return _with_cond(rng, 0x0320_F000 | rng.choice((0, 1, 4, 0xF0 | rng.randrange(16))))
    return 0xF57F_F00F | rng.choice((4, 5, 6)) << 4  # DSB, DMB, ISB


def _exceptional(rng: random.Random) -> int:
    choice = rng.randrange(5)
    if choice == 0:
        return _with_cond(rng, rng.choice((WFI, WFE)))
    if choice == 1:
        return _with_cond(rng, 0x0F00_0000 | rng.randrange(1 << 24))  # SVC
    if choice == 2:  # HVC, now and then with a condition other than AL
        imm = rng.randrange(1 << 16)
        return _with_cond(rng, 0x0140_0070 | (imm >> 4) << 8 | (imm & 15))
    if choice == 3:
        return _with_cond(rng, SMC_0 | rng.randrange(16))
    return _with_cond(rng, 0x0160_006E)  # ERET


def random_registers(rng: random.Random, mode: str) -> dict[str, int]:
    """A trap configuration the harness can program, with each control set now and then."""

    def some(bits: Iterable[int], p: float) -> int:
        return sum(1 << b for b in bits if rng.random() < p)

    registers = baseline(mode)
    hcr = trap_case.HCR_FORCED | some(range(13, 27), 0.2) | some((1, 2, 3, 5, 9, 10, 11), 0.1)
    if mode == "usr" and rng.random() < 0.25:
        hcr |= trap_case.HCR_TGE
    cp10 = rng.choice((0b11, 0b11, 0b11, 0b01, 0b00))
    debug = rng.choice(
        (
            0,
            0,
            0,
            HDCR_TDRA,
            HDCR_TDOSA,
            HDCR_TDRA | HDCR_TDOSA,
            HDCR_TDA | HDCR_TDRA | HDCR_TDOSA,
            HDCR_TDE | HDCR_TDA | HDCR_TDRA | HDCR_TDOSA,
        )
    )
    registers.update(
        {
            "HCR": hcr,
            "HSTR": some((0, 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17), 0.15),
            "HCPTR": some((15, 20, 31), 0.2)
            | (HCPTR_TCP10_11 if rng.random() < 0.2 else 0)
            | some((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13), 0.1),
            "HDCR": HPMN | some((5, 6, 7), 0.2) | debug,
            "CNTHCTL": some((0, 1), 0.7) | some((2, 3), 0.1) | rng.randrange(16) << 4,
            "CNTKCTL": some((0, 1, 8, 9), 0.4) | some((2, 3), 0.1) | rng.randrange(16) << 4,
            "CPACR": cp10 << 20 | cp10 << 22 | some((28, 31), 0.15),
            "FPEXC": 1 << 30 if rng.random() < 0.85 else 0,
        }
    )
    return registers


def random_stimulus(spec: Spec, rng: random.Random) -> Stimulus:
    mode = rng.choice(MODES)
    registers = random_registers(rng, mode)
    kind = rng.random()
    if kind < 0.45:
        opcode = _coprocessor(spec, rng)
    elif kind < 0.6:
        opcode = _floating_point(rng)
    elif kind < 0.75:
        opcode = _status(rng, registers["CPSR"])
    elif kind < 0.9:
        opcode = _exceptional(rng)
    else:
        opcode = _plain(rng)
    return Stimulus(opcode, registers, harness_gprs(spec, opcode, registers["CPSR"]))


# ---- the category -----------------------------------------------------------------------------


def generate(
    spec: Spec, seed: int, random_count: int, out: VectorSink,
    progress: Callable[[str], None] = lambda _: None, meter: MeterFactory = no_meter,
) -> Generated:
    call = spec.symbolic(OPERATION)
    found = search(spec, call, progress, meter)
    progress(
        f"{len(found.witnesses)} witnesses; {len(CATALOGUE)} catalogue rows; {random_count} random vectors"
    )
    catalogue = sum(len(row.modes) for row in CATALOGUE)
    with meter(VECTORS_MADE, len(found.witnesses) + catalogue + random_count) as counted:
        made = Emitted(out, counted)
        for number, path in enumerate(sorted(found.witnesses), start=1):
            stimulus, overrides = witness_stimulus(spec, call, found.witnesses[path])
            record, paths = make_vector(spec, f"traps-w{number:04d}", "witness", stimulus, seed, overrides)
            if path not in paths:
                raise AssertionError(f"the concrete run of the witness for {path.key} took another path")
            made.add(record, paths)
        for row in CATALOGUE:
            for mode in row.modes:
                stimulus = catalogue_stimulus(spec, row, mode)
                made.add(*make_vector(spec, catalogue_id(row, mode), "catalogue", stimulus, seed,
                                      row=row.name))
        rng = random.Random(seed)
        for number in range(1, random_count + 1):
            made.add(*make_vector(spec, f"traps-r{number:05d}", "random", random_stimulus(spec, rng), seed))
    feasible = set(found.witnesses)
    return Generated(out, feasible, made.hit & feasible, found.not_runnable)
