"""`hypspec prove`: run the obligations and print a table, or JSON.

Two kinds of result share the table: a property of `proofs/` (one Z3 query), and an invariant
of the model (its obligations: initial state, then one per transition), plus each transition's
safety obligation (the asserts it reaches hold). `--mutants` adds the matrix of every mutant
against the proofs that must refute it and, for the model's mutants, against the stateful
exploration that must find a broken invariant.
"""

from __future__ import annotations

import argparse
import json
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from hypspec.api import Spec, proof_tree, spec_hash
from hypspec.arguments import DEFAULT_TIMEOUT_S
from hypspec.exitcodes import ExitCode
from hypspec.interrupt import Interrupted, ctrl_c_inside_z3_calls, unless_interrupted
from hypspec.junit import Case, Suite, write_junit
from hypspec.names import UnknownNameError, unknown_name
from hypspec.output import inform, meters, verbose
from hypspec.proof.mutants import (
    MutantResult,
    check_mutant,
    mutants_naming,
    patched_tree,
    read_all_mutants,
    variant,
)
from hypspec.proof.prover import prove


class Result(Protocol):
    name: str
    status: str
    seconds: float
    detail: str

    @property
    def ok(self) -> bool: ...


def proof_names(spec: Spec) -> list[str]:
    """What `hypspec prove` takes by name: the properties, and the model's invariants and
    observations."""
    program = spec.program
    return [*program.properties, *program.invariants, *program.observations]


@dataclass
class _Run:
    """What a `hypspec prove` run has finished so far: on Ctrl-C, what it reports."""

    spec: Spec | None = None
    spec_hash: str = ""  # of the architecture's chapters proved against (`hypspec.api.spec_hash`)
    results: list[Any] = field(default_factory=list)
    mutants: list[MutantResult] = field(default_factory=list)
    explored: dict[str, str] = field(default_factory=dict)
    mutant_scope: str = ""  # with --mutants: which mutants were checked, and why those

    @property
    def ok(self) -> bool:
        return (all(r.ok for r in self.results) and all(m.caught for m in self.mutants)
                and all(v.startswith("caught") for v in self.explored.values()))


def run_proofs(args: argparse.Namespace) -> int:
    run = _Run()
    try:
        with ctrl_c_inside_z3_calls():
            _prove(args, run)
            if args.mutants:
                _check_mutants(args, run)
    except KeyboardInterrupt as interrupt:
        raise _interrupted(args, run) from interrupt
    assert run.spec is not None
    if args.json:
        print(json.dumps(_as_json(run, args.variant, verbose(args)), indent=2))
    else:
        _print_table(run, args.variant, verbose(args))
    if args.junit is not None:
        write_junit(args.junit, "hypspec prove", junit_suites(run))
    return ExitCode.OK if run.ok else ExitCode.FAILED


def _prove(args: argparse.Namespace, run: _Run) -> None:
    """Prove what `args` names (everything by default), appending each result to `run` as it is
    finished."""
    from hypspec.model.induction import prove_invariant, prove_model
    from hypspec.model.noninterference import prove_observation
    from hypspec.model.program import Model

    # `--variant ""` names no variant, and is refused as unknown rather than read as none
    chosen = variant(args.variant) if args.variant is not None else None
    with patched_tree(*chosen) if chosen else nullcontext(None) as root:
        spec = run.spec = Spec.load(*proof_tree(root)) if root else Spec.load(*proof_tree())
        run.spec_hash = spec_hash(root) if root else spec_hash()
        model = Model(spec)
        model_timeout = args.timeout or model.obligation_timeout_s
        known = proof_names(spec)
        names = args.properties or known
        for name in names:
            if name not in known:
                hint = "; `hypspec list properties` lists the properties, invariants and observations"
                raise UnknownNameError(unknown_name("property", name, known, hint))
        model_level = {*spec.program.invariants, *spec.program.observations}
        properties = [name for name in names if name not in model_level]
        # named, the model's invariants and observations are proved one by one; else all at once
        one_by_one = [name for name in names if name in model_level] if args.properties else []
        meter = meters(args)
        with meter("prove: properties done", len(properties) + len(one_by_one)) as proved:
            for name in properties:
                inform(args, f"proving {name} ...")
                run.results.append(unless_interrupted(prove(spec, name, args.timeout or DEFAULT_TIMEOUT_S)))
                proved.advance()
            for name in one_by_one:
                if name in spec.program.invariants:
                    inform(args, f"proving {name} ...")
                    run.results.append(unless_interrupted(prove_invariant(model, name, model_timeout)))
                else:
                    inform(args, f"proving that {name} does not depend on the secret ...")
                    run.results.append(unless_interrupted(prove_observation(model, name, model_timeout)))
                proved.advance()
        if not args.properties:
            inform(args, f"proving the model's invariants and safety, "
                            f"{len(model.transitions)} transitions on {args.jobs} process(es), "
                            f"up to {model_timeout:g} s an obligation ...")
            # the initial state's obligations, then each transition's
            with meter("prove: transitions done", len(model.transitions) + 1) as proved:
                invariants, safety = prove_model(model, model_timeout, jobs=args.jobs, on_done=proved.advance)
            run.results += unless_interrupted(invariants + safety)


def _check_mutants(args: argparse.Namespace, run: _Run) -> None:
    """Check every mutant or, when properties were named, only the mutants that name one of them
    (or one of its obligations): the others could not be refuted by what was named, and checking
    all of them takes many minutes."""
    every = read_all_mutants()
    mutants = mutants_naming(every, args.properties) if args.properties else every
    run.mutant_scope = mutant_scope(len(mutants), len(every), args.properties)
    inform(args, run.mutant_scope)
    with meters(args)("prove: mutants checked", len(mutants)) as checked:
        for mutant in mutants:
            inform(args, f"checking mutant {mutant.name} ...")
            run.mutants.append(unless_interrupted(check_mutant(mutant, args.timeout)))
            if mutant.file.startswith("models/"):
                run.explored[mutant.name] = _explore_mutant(mutant)
            checked.advance()


def mutant_scope(chosen: int, total: int, names: list[str]) -> str:
    """The line that says how many mutants `--mutants` checked and how they were chosen."""
    if not names:
        return f"{total} mutants checked: every mutant of the tree"
    return (f"{chosen} of the tree's {total} mutants checked: those whose caught_by names "
            f"{', '.join(names)}, or an obligation of {'it' if len(names) == 1 else 'one of them'}")


def _interrupted(args: argparse.Namespace, run: _Run) -> Interrupted:
    """Ctrl-C: the table of what was finished (not in JSON, where a partial report would read as a
    whole one), and what the message says; the proof that was running is not recorded."""
    if run.spec is not None and run.results and not args.json:
        _print_table(run, args.variant, verbose(args))
    proved = sum(r.ok for r in run.results)
    done = f"{len(run.results)} proof(s) finished ({proved} proved)"
    if run.mutants:
        done += f", {len(run.mutants)} mutant(s) checked"
    return Interrupted(f"{done}; the one in progress is not recorded")


def _explore_mutant(mutant: Any) -> str:
    """Whether the stateful exploration finds a broken invariant in the mutated model."""
    from hypspec.model.explore import explore_mutant

    campaign, finding = explore_mutant(mutant)
    if finding is None:
        return f"SURVIVED ({campaign.steps} steps)"
    return f"caught after {len(finding.trace)} steps"


def _obligations(result: Any) -> list[Any]:
    """The obligations a model-level result is made of (an invariant's initial state and
    transitions, an observation's transitions); a property of `proofs/` is one query, and has
    none to show."""
    return list(getattr(result, "obligations", []))


def _print_table(run: _Run, chosen: str | None, detailed: bool = False) -> None:
    """The table of results and mutants, then a summary; `detailed` (`-v`) adds a line for each
    obligation of a model-level result."""
    results, mutants, explored, spec = run.results, run.mutants, run.explored, run.spec
    assert spec is not None
    if chosen:
        print(f"model variant: {chosen}")
    width = max([len(r.name) for r in results] + [len("property")])
    print(f"{'property':<{width}}  {'status':<8}  time")
    for result in results:
        print(f"{result.name:<{width}}  {result.status:<8}  {result.seconds:6.2f} s  {result.detail}")
        if detailed:
            for ob in _obligations(result):
                print(f"  {ob.name}: {ob.status}, {ob.seconds:.2f} s{'  ' + ob.detail if ob.detail else ''}")
        if result.counterexample is not None:
            print(f"  counterexample for {result.name}:")
            print(result.counterexample.render(spec))
    if run.mutant_scope:
        print(f"\n{run.mutant_scope}")
    if mutants:
        mwidth = max(len(m.mutant.name) for m in mutants)
        print(f"{'mutant':<{mwidth}}  proofs    refuted by")
        for m in mutants:
            verdict = "caught" if m.caught else "SURVIVED"
            by = ", ".join(f"{r.name} ({r.status}, {r.seconds:.2f} s)" for r in m.results)
            print(f"{m.mutant.name:<{mwidth}}  {verdict:<8}  {by}")
            if m.mutant.name in explored:
                print(f"{'':<{mwidth}}  stateful  {explored[m.mutant.name]}")
    proved = sum(r.ok for r in results)
    caught = sum(m.caught for m in mutants)
    summary = f"\n{proved}/{len(results)} properties proved"
    if mutants:
        summary += f"; {caught}/{len(mutants)} mutants caught by a proof"
    if explored:
        summary += f"; {sum(v.startswith('caught') for v in explored.values())}/{len(explored)} " \
                   "model mutants caught by the stateful exploration"
    print(summary)


#: The format of `hypspec prove --json`, and its JSON Schema (docs/cli.md, "JSON reports").
FORMAT = "hypspec-prove/1"
SCHEMA = Path(__file__).with_name("prove-report.schema.json")


def _as_json(run: _Run, chosen: str | None, detailed: bool = False) -> dict[str, Any]:
    mutants, explored, spec = run.mutants, run.explored, run.spec
    assert spec is not None

    def one(result: Any) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": result.name,
            "status": result.status,
            "seconds": round(result.seconds, 4),
            "detail": result.detail,
        }
        cex = result.counterexample
        if cex is not None:
            entry["counterexample"] = {"text": cex.render(spec), "replayed": cex.replayed}
        if detailed and _obligations(result):
            entry["obligations"] = [{"name": ob.name, "status": ob.status, "seconds": round(ob.seconds, 4),
                                     "detail": ob.detail} for ob in _obligations(result)]
        return entry

    return {
        "format": FORMAT,
        "spec_hash": run.spec_hash,
        "tree_hash": spec.digest,
        "variant": chosen,
        "properties": [one(r) for r in run.results],
        "mutants": [
            {
                "name": m.mutant.name,
                "bug_class": m.mutant.bug_class,
                "caught": m.caught,
                "results": [one(r) for r in m.results],
                **({"stateful": explored[m.mutant.name]} if m.mutant.name in explored else {}),
            }
            for m in mutants
        ],
    }



def junit_suites(run: _Run) -> list[Suite]:
    """`--junit`: a test for each row of the table (a property, or a model-level invariant,
    observation or safety obligation group), and one for each mutant, failed unless caught."""
    assert run.spec is not None
    spec = run.spec

    def case(result: Any, classname: str) -> Case:
        if result.ok:
            return Case(result.name, classname, result.seconds)
        details = f"{result.status} {result.detail}".strip()
        if result.counterexample is not None:
            details += "\n" + result.counterexample.render(spec)
        message = f"{result.status}: {result.detail}" if result.detail else result.status
        return Case(result.name, classname, result.seconds, message, details)

    suites = [Suite("properties", [case(r, "prove") for r in run.results])]
    if run.mutants:
        suites.append(Suite("mutants", [_mutant_case(m, run.explored) for m in run.mutants]))
    return suites


def _mutant_case(mutant: MutantResult, explored: dict[str, str]) -> Case:
    name = mutant.mutant.name
    seconds = sum(r.seconds for r in mutant.results)
    stateful = explored.get(name, "caught")
    if mutant.caught and stateful.startswith("caught"):
        return Case(name, "mutants", seconds)
    by = "; ".join(f"{r.name}: {r.status}" for r in mutant.results) or "no proof refuted it"
    message = ("SURVIVED the proofs" if not mutant.caught
               else f"SURVIVED the stateful exploration ({stateful})")
    return Case(name, "mutants", seconds, message, f"{message}\n{by}")
