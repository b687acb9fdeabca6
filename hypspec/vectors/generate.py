"""`hypspec vectors CATEGORY`: generate a vector file and report its path coverage."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from hypspec import __version__
from hypspec.api import SPEC_DIR, Spec
from hypspec.vectors import gic, stage2, timers, traps
from hypspec.vectors.store import FORMAT, write_vectors

CATEGORIES = {
    "gic": gic.generate,
    "stage2": stage2.generate,
    "timers": timers.generate,
    "traps": traps.generate,
}


def add_vectors_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("vectors", help="generate conformance vectors from the spec")
    parser.add_argument("category", choices=sorted(CATEGORIES))
    parser.add_argument("--seed", type=int, default=0, help="seed for random vectors and UNKNOWNs")
    parser.add_argument("--random", type=int, default=1000, metavar="N",
                        help="random vectors in addition to one witness per feasible path")
    parser.add_argument("--out", type=Path, required=True, help="directory for CATEGORY.jsonl")
    parser.add_argument("--json", action="store_true", help="print the coverage summary as JSON")
    parser.set_defaults(run=run_vectors)


def run_vectors(args: argparse.Namespace) -> int:
    if args.random < 0:
        print("hypspec: error: --random must be at least 0", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)  # fail before the search, not after it
    spec = Spec.load(SPEC_DIR)
    start = time.perf_counter()

    def progress(message: str) -> None:
        if not args.json:
            print(f"{args.category}: {message}", file=sys.stderr)

    generated = CATEGORIES[args.category](spec, args.seed, args.random, progress)
    seconds = time.perf_counter() - start
    feasible = Counter(p.function for p in generated.feasible)
    hit = Counter(p.function for p in generated.hit)
    coverage: dict[str, Any] = {
        "feasible_paths": len(generated.feasible),
        "paths_hit": len(generated.hit),
        "by_function": {name: [hit[name], feasible[name]] for name in sorted(feasible)},
    }
    if generated.not_runnable:
        coverage["not_runnable"] = [
            {"path": path.key, "rules": rules} for path, rules in sorted(generated.not_runnable.items())
        ]
    meta: dict[str, Any] = {
        "format": FORMAT,
        "category": args.category,
        "spec_hash": spec.digest,
        "generator": f"hypspec {__version__}",
        "seed": args.seed,
        "count": len(generated.vectors),
        "coverage": coverage,
    }
    meta.update(generated.meta)  # category-specific fields (a prelude, the timers' count window)
    path = args.out / f"{args.category}.jsonl"
    write_vectors(path, meta, generated.vectors)
    summary = {"file": str(path), "vectors": len(generated.vectors), "seconds": round(seconds, 3),
               "coverage": coverage}
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(f"wrote {len(generated.vectors)} vectors to {path} in {seconds:.2f} s")
        print(f"coverage: {len(generated.hit)}/{len(generated.feasible)} feasible paths hit")
        width = max(len(name) for name in feasible)
        for name in sorted(feasible):
            print(f"  {name:<{width}}  {hit[name]:>3}/{feasible[name]}")
        if generated.not_runnable:
            print(f"not runnable on the harness: {len(generated.not_runnable)} path(s) the spec can take")
            for path, rules in sorted(generated.not_runnable.items()):
                print(f"  {path.key}  ({'; '.join(rules)})")
    return 0
