"""What a model is made of: its globals split into shared and per-PE state, its transitions and
invariants, and which parameter of each names the processing element it runs on."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from hypspec.api import ROOT, Spec, proof_tree
from hypspec.arguments import DEFAULT_TIMEOUT_S
from hypspec.concrete.compiler import CompiledSpec, compile_program
from hypspec.lang import syntax as s
from hypspec.lang.checker import Program
from hypspec.lang.literate import read_manifest
from hypspec.lang.types import Bits, Bool, Type
from hypspec.model.footprint import Footprint, footprints

if TYPE_CHECKING:
    from hypspec.model.induction import EvaluatedStep
    from hypspec.model.satisfiable import KnownModels
    from hypspec.symbolic.evaluator import SymValue

# The type of a parameter that names a processing element (declared in spec/00).
PE_TYPE = "PE"
# Where a PE finds its own number: MPIDR.Aff0, which the `PE` type's numbering follows (spec/00)
# and which `TLB.ThisPE()` reads. The machine gives each bank its number there, and the prover
# assumes it of every bank; the register is read-only, so no step changes it.
PE_NUMBER = "MPIDR"


class ModelError(ValueError):
    """A model's declarations cannot be used as a transition system."""


def load_model(model_dir: Path | None = None, root: Path = ROOT) -> Model:
    """The architecture, a model (KVM/ARM unless another is named) and the properties."""
    return Model(Spec.load(*proof_tree(root, model_dir)))


@dataclass(frozen=True)
class Step:
    """A transition (or an invariant) and where its PE parameter sits, if it has one.

    A transition's leading `if COND then return;` statements are its guard: when one holds the
    step does nothing. The prover assumes the guard passes (a step that does nothing keeps every
    invariant) and evaluates only what follows, `ENABLED` and `BODY` below.
    """

    decl: s.FuncDecl
    pe_index: int | None
    guards: tuple[s.Expr, ...] = ()

    @property
    def enabled_name(self) -> str:
        return f"{self.decl.name}.Enabled"

    @property
    def body_name(self) -> str:
        return f"{self.decl.name}.Body"

    @property
    def name(self) -> str:
        return self.decl.name

    @property
    def params(self) -> list[s.Param]:
        return self.decl.params

    @property
    def assumed(self) -> frozenset[str] | None:
        """The invariants an invariant's obligations assume: itself and those of its `assuming`
        list, or None (every invariant of the model) when it has none."""
        if self.decl.assuming is None:
            return None
        return frozenset([self.name, *(name for _, name in self.decl.assuming)])


class Model:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        program = spec.program
        self.shared = [n for n, g in program.globals.items() if g.shared]
        self.banked = [n for n, g in program.globals.items() if not g.shared]
        self.transitions = [self._step(f) for f in program.transitions.values()]
        self.invariants = [self._step(f) for f in program.invariants.values()]
        self.observations = [self._step(f) for f in program.observations.values()]
        self.declassified = [self._step(f) for f in program.declassified.values()]
        self.secrets = [self._step(f) for f in program.secrets.values()]
        self.witnesses = [self._step(f) for f in program.witnesses.values()]
        self._check_secret()
        if not self.transitions:
            raise ModelError("the model declares no transition")
        self.symbolic_program = self._split_guards(program)
        # Invariant instances over the pre-state, as Z3 terms: the same in every transition's
        # query (see `induction._World`), so evaluated once.
        self.hypothesis_cache: dict[tuple, tuple[list, list]] = {}
        # Witness values over the pre-state, by witness and instance (see `induction._World`).
        self.witness_cache: dict[tuple, tuple[SymValue, list]] = {}
        # Each transition evaluated symbolically, once for all its obligations' cases.
        self.step_cache: dict[str, EvaluatedStep] = {}

    @cached_property
    def known_models(self) -> KnownModels:
        """Models of earlier cases' hypotheses over one copy of the state, which settle most later
        cases' vacuity checks (`hypspec.model.satisfiable`); made on first use, since it needs Z3
        and running the model concretely does not."""
        from hypspec.model.satisfiable import KnownModels

        return KnownModels()

    @cached_property
    def known_pair_models(self) -> KnownModels:
        """The same over two copies of the state (`hypspec.model.noninterference`)."""
        from hypspec.model.satisfiable import KnownModels

        return KnownModels()

    @cached_property
    def obligation_timeout_s(self) -> float:
        """The solver time each obligation is given when the user names none: what the manifest
        of the model's chapters budgets (`obligation_timeout_s`; the longest, if several do), or
        else the prover's default."""
        files = set(self.spec.loaded.files)
        budgets = []
        for directory in sorted({path.parent for path in files}):
            if (directory / "manifest.toml").is_file():
                manifest = read_manifest(directory)
                if manifest.obligation_timeout_s is not None and files & set(manifest.chapters):
                    budgets.append(manifest.obligation_timeout_s)
        return max(budgets, default=DEFAULT_TIMEOUT_S)

    @cached_property
    def footprints(self) -> dict[str, Footprint]:
        """What each function (transition, invariant, observation ...) can read and write."""
        return footprints(self.spec.program)

    @cached_property
    def guards(self) -> CompiledSpec:
        """The transitions' guards, compiled (the explorer picks enabled steps with them)."""
        return compile_program(self.symbolic_program)

    def _split_guards(self, program: Program) -> Program:
        """The program with, for each transition, its guard as a boolean function and the rest of
        its body as a procedure (for the prover; the compiled model runs the transition whole)."""
        functions = dict(program.functions)
        locals_ = dict(program.locals)
        for index, step in enumerate(self.transitions):
            body = list(step.decl.body)
            guards = []
            while body and _is_guard(body[0]):
                guards.append(body.pop(0).arms[0][0])  # type: ignore[attr-defined]
            false, true = s.BoolLit(step.decl.loc, False), s.BoolLit(step.decl.loc, True)
            false.ty = true.ty = Bool()
            enabled = [s.If(g.loc, [(g, [s.Return(g.loc, false)])], None) for g in guards]
            enabled.append(s.Return(step.decl.loc, true))
            functions[step.enabled_name] = replace(step.decl, name=step.enabled_name, body=enabled, role="",
                                                   result_ty=Bool())
            functions[step.body_name] = replace(step.decl, name=step.body_name, body=body, role="")
            locals_[step.enabled_name] = locals_[step.body_name] = program.locals.get(step.name, {})
            self.transitions[index] = replace(step, guards=tuple(guards))
        return replace(program, functions=functions, locals=locals_)

    @cached_property
    def pe_type(self) -> Bits:
        for step in self.transitions:
            if step.pe_index is not None:
                ty = step.params[step.pe_index].ty
                assert isinstance(ty, Bits)
                return ty
        raise ModelError(f"no transition has a '{PE_TYPE}' parameter: nothing runs on a processing element")

    def _step(self, decl: s.FuncDecl) -> Step:
        positions = [i for i, p in enumerate(decl.params) if _is_pe(p)]
        if len(positions) > 1:
            raise ModelError(f"{decl.loc}: {decl.name} names more than one processing element")
        return Step(decl, positions[0] if positions else None)

    def _check_secret(self) -> None:
        """Observations, declassified ones and the secret's step predicate all name the secret
        first, and it is one type; the predicate names the PE a step runs on."""
        named = [*self.observations, *self.declassified, *self.secrets]
        for step in named:
            if not step.params or step.pe_index == 0:
                raise ModelError(f"{step.decl.loc}: {step.name}: the first parameter names the secret "
                                 f"(whose state observers must not learn), and is not a PE")
        types = {str(step.params[0].ty) for step in named}
        if len(types) > 1:
            raise ModelError(f"the observations name secrets of different types "
                             f"({', '.join(sorted(types))}); one secret type per model")
        if named and not self.observations:
            raise ModelError(f"{named[0].decl.loc}: {named[0].name} speaks of a secret, "
                             f"but nothing is observed")
        if len(self.secrets) > 1:
            raise ModelError(f"{self.secrets[1].decl.loc}: {self.secrets[1].name}: a model has one secret "
                             f"step predicate ({self.secrets[0].name} is the first)")
        for step in self.secrets:
            if len(step.params) != 2 or step.pe_index != 1:
                raise ModelError(f"{step.decl.loc}: {step.name}: a secret's step predicate takes the secret "
                                 f"and the PE, in that order")

    @property
    def secret_type(self) -> Type | None:
        return self.observations[0].params[0].ty if self.observations else None

    def transition(self, name: str) -> Step:
        return _named(self.transitions, name, "transition")

    def invariant(self, name: str) -> Step:
        return _named(self.invariants, name, "invariant")

    def observation(self, name: str) -> Step:
        return _named([*self.observations, *self.declassified, *self.secrets], name, "observation")


def _named(steps: list[Step], name: str, kind: str) -> Step:
    for step in steps:
        if step.name == name:
            return step
    raise ModelError(f"no {kind} named '{name}' ({kind}s: {', '.join(s.name for s in steps)})")


def _is_guard(stmt: s.Stmt) -> bool:
    """`if COND then return;`: one arm, no else, a bare return."""
    return (isinstance(stmt, s.If) and len(stmt.arms) == 1 and stmt.orelse is None
            and len(stmt.arms[0][1]) == 1 and isinstance(stmt.arms[0][1][0], s.Return)
            and stmt.arms[0][1][0].value is None)


def _is_pe(param: s.Param) -> bool:
    syntax = param.type_syntax
    return isinstance(syntax, s.NamedSyntax) and syntax.name == PE_TYPE
