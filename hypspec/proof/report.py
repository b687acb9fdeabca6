"""`hypspec prove`: run the obligations and print a table, or JSON."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from hypspec.api import PROOFS_DIR, SPEC_DIR, Spec
from hypspec.proof.mutants import MutantResult, check_mutant, read_mutants
from hypspec.proof.prover import ProofResult, prove


def run_proofs(args: argparse.Namespace) -> int:
    spec = Spec.load(SPEC_DIR, PROOFS_DIR)
    names = args.properties or list(spec.program.properties)
    unknown = [n for n in names if n not in spec.program.properties]
    if unknown:
        known = ", ".join(spec.program.properties)
        raise KeyError(f"no property named {', '.join(unknown)} (properties: {known})")
    results = []
    for name in names:
        if not args.json:
            print(f"proving {name} ...", file=sys.stderr)
        results.append(prove(spec, name, args.timeout))
    mutants: list[MutantResult] = []
    if args.mutants:
        for mutant in read_mutants():
            if not args.json:
                print(f"checking mutant {mutant.name} ...", file=sys.stderr)
            mutants.append(check_mutant(mutant, args.timeout))
    if args.json:
        print(json.dumps(_as_json(results, mutants, spec), indent=2))
    else:
        _print_table(results, mutants, spec)
    ok = all(r.ok for r in results) and all(m.caught for m in mutants)
    return 0 if ok else 1


def _print_table(results: list[ProofResult], mutants: list[MutantResult], spec: Spec) -> None:
    width = max([len(r.name) for r in results] + [len("property")])
    print(f"{'property':<{width}}  {'status':<8}  time")
    for result in results:
        print(f"{result.name:<{width}}  {result.status:<8}  {result.seconds:6.2f} s  {result.detail}")
        if result.counterexample is not None:
            print(f"  counterexample for {result.name}:")
            print(result.counterexample.render(spec))
    if mutants:
        mwidth = max(len(m.mutant.name) for m in mutants)
        print(f"\n{'mutant':<{mwidth}}  verdict   refuted by")
        for m in mutants:
            verdict = "caught" if m.caught else "SURVIVED"
            by = ", ".join(f"{r.name} ({r.status}, {r.seconds:.2f} s)" for r in m.results)
            print(f"{m.mutant.name:<{mwidth}}  {verdict:<8}  {by}")
    proved = sum(r.ok for r in results)
    caught = sum(m.caught for m in mutants)
    summary = f"\n{proved}/{len(results)} properties proved"
    if mutants:
        summary += f"; {caught}/{len(mutants)} mutants caught"
    print(summary)


def _as_json(results: list[ProofResult], mutants: list[MutantResult], spec: Spec) -> dict[str, Any]:
    def one(result: ProofResult) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": result.name,
            "status": result.status,
            "seconds": round(result.seconds, 4),
            "detail": result.detail,
        }
        cex = result.counterexample
        if cex is not None:
            entry["counterexample"] = {
                "params": cex.params,
                "registers": cex.registers,
                "memory": {f"{a:#x}": w for a, w in sorted(cex.memory.items())},
                "unknowns": cex.unknowns,
                "replayed": cex.replayed,
            }
        return entry

    return {
        "spec_hash": spec.digest,
        "properties": [one(r) for r in results],
        "mutants": [
            {
                "name": m.mutant.name,
                "bug_class": m.mutant.bug_class,
                "caught": m.caught,
                "results": [one(r) for r in m.results],
            }
            for m in mutants
        ],
    }
