"""`hypspec vectors CATEGORY`: generate a vector file and report its path coverage."""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hypspec import __version__
from hypspec.arguments import one_of, path_argument, whole_number
from hypspec.categories.registry import CATEGORIES
from hypspec.exitcodes import ExitCode
from hypspec.files import output_directory
from hypspec.interrupt import Interrupted, ctrl_c_inside_z3_calls
from hypspec.output import MeterFactory, inform, meters

if TYPE_CHECKING:
    from hypspec.api import Spec
    from hypspec.vectors.generated import Generated

def generator(name: str) -> Callable[..., Generated]:
    """The function that generates one category's vectors (imported now: the search needs Z3)."""
    from hypspec.categories.registry import category

    return category(name).generate()


def add_vectors_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("vectors", help="generate conformance vectors from the spec")
    parser.add_argument("category", type=one_of("category", CATEGORIES),
                        help=f"what the vectors exercise: {', '.join(sorted(CATEGORIES))}")
    parser.add_argument("--seed", type=int, default=0, help="seed for random vectors and UNKNOWNs")
    parser.add_argument("--random", type=whole_number(0), default=1000, metavar="N",
                        help="random vectors in addition to one witness per feasible path")
    parser.add_argument("--out", type=path_argument, required=True,
                        help="directory for CATEGORY.jsonl (made if missing)")
    parser.add_argument("--json", action="store_true", help="print the coverage summary as JSON")
    parser.set_defaults(run=run_vectors, solver=True)


def run_vectors(args: argparse.Namespace) -> int:
    path = args.out / f"{args.category}.jsonl"
    # the directory is made before the search, so that a bad --out fails now rather than after it
    from hypspec.api import SPEC_DIR, Spec
    from hypspec.vectors.store import vector_writer

    with output_directory(args.out):
        try:
            spec = Spec.load(SPEC_DIR)
            start = time.perf_counter()
            # each vector goes to disk as it is made: --random N never holds N vectors
            with vector_writer(path) as writer, ctrl_c_inside_z3_calls():
                generated = generator(args.category)(spec, args.seed, args.random, writer, _progress(args),
                                                     meter=_meters(args))
                seconds = time.perf_counter() - start
                coverage = _coverage(generated)
                writer.finish(_meta(args, spec, generated, coverage))
        except KeyboardInterrupt as interrupt:
            raise Interrupted(f"no vectors written; {path} is as it was") from interrupt
    if args.json:
        # no time in it: the same seed gives the same report, byte for byte (time is the text's)
        summary = {"file": str(path), "vectors": generated.out.count, "coverage": coverage}
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(path, generated, seconds)
    return ExitCode.OK


def _progress(args: argparse.Namespace) -> Callable[[str], None]:
    def progress(message: str) -> None:
        inform(args, f"{args.category}: {message}")

    return progress


def _meters(args: argparse.Namespace) -> MeterFactory:
    """`meters(args)`, with the category before each label as before each progress line."""
    made = meters(args)
    return lambda label, total: made(f"{args.category}: {label}", total)


def _coverage(generated: Generated) -> dict[str, Any]:
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
    return coverage


def _meta(args: argparse.Namespace, spec: Spec, generated: Generated,
          coverage: dict[str, Any]) -> dict[str, Any]:
    from hypspec.vectors.store import FORMAT

    meta: dict[str, Any] = {
        "format": FORMAT,
        "category": args.category,
        "spec_hash": spec.digest,
        "generator": f"hypspec {__version__}",
        "seed": args.seed,
        "count": generated.out.count,
        "coverage": coverage,
    }
    meta.update(generated.meta)  # category-specific fields (a prelude, the timers' count window)
    return meta


def _print_summary(path: Path, generated: Generated, seconds: float) -> None:
    feasible = Counter(p.function for p in generated.feasible)
    hit = Counter(p.function for p in generated.hit)
    print(f"wrote {generated.out.count} vectors to {path} in {seconds:.2f} s")
    print(f"coverage: {len(generated.hit)}/{len(generated.feasible)} feasible paths hit")
    width = max(len(name) for name in feasible)
    for name in sorted(feasible):
        print(f"  {name:<{width}}  {hit[name]:>3}/{feasible[name]}")
    if generated.not_runnable:
        print(f"not runnable on the harness: {len(generated.not_runnable)} path(s) the spec can take")
        for rule_path, rules in sorted(generated.not_runnable.items()):
            print(f"  {rule_path.key}  ({'; '.join(rules)})")
