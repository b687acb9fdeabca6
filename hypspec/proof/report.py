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
import math
import sys
from collections.abc import Callable
from contextlib import nullcontext
from typing import Any, Protocol

from hypspec.api import Spec, proof_tree
from hypspec.proof.mutants import MutantResult, check_mutant, patched_tree, read_all_mutants, variant
from hypspec.proof.prover import prove


class Result(Protocol):
    name: str
    status: str
    seconds: float
    detail: str

    @property
    def ok(self) -> bool: ...


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(
            f"a timeout must be a positive, finite number of seconds, not {text}")
    return value


def whole_number(minimum: int) -> Callable[[str], int]:
    """An argument parser for a whole number of at least `minimum`."""

    def parse(text: str) -> int:
        try:
            value = int(text, 0)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value

    return parse


positive_count = whole_number(1)


def run_proofs(args: argparse.Namespace) -> int:
    from hypspec.model.induction import prove_invariant, prove_model
    from hypspec.model.noninterference import prove_observation
    from hypspec.model.program import Model

    chosen = variant(args.variant) if args.variant else None
    with patched_tree(*chosen) if chosen else nullcontext(None) as root:
        spec = Spec.load(*proof_tree(root)) if root else Spec.load(*proof_tree())
        model = Model(spec)
        known = [*spec.program.properties, *spec.program.invariants, *spec.program.observations]
        names = args.properties or known
        unknown = [n for n in names if n not in known]
        if unknown:
            raise KeyError(f"no property named {', '.join(unknown)} "
                           f"(properties, invariants and observations: {', '.join(known)})")
        results: list[Any] = []
        model_level = {*spec.program.invariants, *spec.program.observations}
        for name in names:
            if name not in model_level:
                _progress(args, f"proving {name} ...")
                results.append(prove(spec, name, args.timeout))
        if args.properties:
            for name in names:
                if name in spec.program.invariants:
                    _progress(args, f"proving {name} ...")
                    results.append(prove_invariant(model, name, args.timeout))
                elif name in spec.program.observations:
                    _progress(args, f"proving that {name} does not depend on the secret ...")
                    results.append(prove_observation(model, name, args.timeout))
        else:
            _progress(args, f"proving the model's invariants and safety, "
                            f"{len(model.transitions)} transitions on {args.jobs} process(es) ...")
            invariants, safety = prove_model(model, args.timeout, jobs=args.jobs)
            results += invariants + safety
    mutants: list[MutantResult] = []
    explored: dict[str, str] = {}
    if args.mutants:
        for mutant in read_all_mutants():
            _progress(args, f"checking mutant {mutant.name} ...")
            mutants.append(check_mutant(mutant, args.timeout))
            if mutant.file.startswith("models/"):
                explored[mutant.name] = _explore_mutant(mutant)
    if args.json:
        print(json.dumps(_as_json(results, mutants, explored, spec, args.variant), indent=2))
    else:
        _print_table(results, mutants, explored, spec, args.variant)
    ok = all(r.ok for r in results) and all(m.caught for m in mutants)
    ok = ok and all(v.startswith("caught") for v in explored.values())
    return 0 if ok else 1


def _progress(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text, file=sys.stderr, flush=True)


def _explore_mutant(mutant: Any) -> str:
    """Whether the stateful exploration finds a broken invariant in the mutated model."""
    from hypspec.model.explore import explore_mutant

    campaign, finding = explore_mutant(mutant)
    if finding is None:
        return f"SURVIVED ({campaign.steps} steps)"
    return f"caught after {len(finding.trace)} steps"


def _print_table(results: list[Any], mutants: list[MutantResult], explored: dict[str, str], spec: Spec,
                 chosen: str | None) -> None:
    if chosen:
        print(f"model variant: {chosen}")
    width = max([len(r.name) for r in results] + [len("property")])
    print(f"{'property':<{width}}  {'status':<8}  time")
    for result in results:
        print(f"{result.name:<{width}}  {result.status:<8}  {result.seconds:6.2f} s  {result.detail}")
        if result.counterexample is not None:
            print(f"  counterexample for {result.name}:")
            print(result.counterexample.render(spec))
    if mutants:
        mwidth = max(len(m.mutant.name) for m in mutants)
        print(f"\n{'mutant':<{mwidth}}  proofs    refuted by")
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


def _as_json(results: list[Any], mutants: list[MutantResult], explored: dict[str, str], spec: Spec,
             chosen: str | None) -> dict[str, Any]:
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
        return entry

    return {
        "spec_hash": spec.digest,
        "variant": chosen,
        "properties": [one(r) for r in results],
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

