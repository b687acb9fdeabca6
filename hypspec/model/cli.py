"""`hypspec explore` (random campaigns against a model) and `hypspec table1` (the paper's Table 1,
counted from the model)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hypspec.arguments import DEFAULT_PES, path_argument, positive_count, whole_number
from hypspec.exitcodes import ExitCode
from hypspec.interrupt import Interrupted, ctrl_c_inside_z3_calls
from hypspec.output import inform, meters

# The model, the explorer (and Hypothesis behind it) are imported by the commands that run them:
# registering the subcommands must cost nothing, since every `hypspec` command line does it.


def _model_dir(text: str) -> Path:
    directory = path_argument(text)
    if not (directory / "manifest.toml").is_file():
        raise argparse.ArgumentTypeError(f"{text}: not a model directory (no manifest.toml)")
    return directory


def add_explore_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explore",
                       help="random operation sequences on the model, invariants checked after each step")
    p.add_argument("--steps", type=positive_count, default=50, help="transitions per sequence")
    p.add_argument("--examples", type=positive_count, default=200, help="sequences to run")
    p.add_argument("--seed", type=whole_number(0), default=0, help="the campaign's seed")
    p.add_argument("--pes", type=positive_count, default=DEFAULT_PES,
                   help="processing elements (at most 8 for KVM/ARM)")
    p.add_argument("--model", type=_model_dir, help="a model directory (default: models/kvm_arm)")
    p.add_argument("--json", action="store_true", help="print the outcome as JSON")
    p.set_defaults(run=cmd_explore, solver=True)


def add_table1_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("table1", help="the context the model switches, beside the paper's Table 1")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model", type=_model_dir, help="a model directory (default: models/kvm_arm)")
    which.add_argument("--variant", metavar="NAME",
                       help="a variant of the model (models/kvm_arm/variants.toml), e.g. linux-3.10")
    p.add_argument("--json", action="store_true", help="print the table as JSON")
    p.set_defaults(run=cmd_table1, solver=True)


def cmd_explore(args: argparse.Namespace) -> int:
    from hypspec.api import MODEL_DIR
    from hypspec.model.explore import explore
    from hypspec.model.program import ModelError, load_model
    from hypspec.model.scenarios import read_scenarios

    model = load_model(args.model)
    if args.pes > 1 << model.pe_type.width:
        raise ModelError(f"--pes: the model has at most {1 << model.pe_type.width} processing elements")
    scenarios = read_scenarios(model, args.model or MODEL_DIR)
    inform(args, f"exploring: {args.examples} runs of up to {args.steps} transitions, seed {args.seed} ...")
    # no total: the scenarios' transitions come on top of the runs', and a run may end early
    meter = meters(args)("explore: transitions", None)
    try:
        with meter, ctrl_c_inside_z3_calls():  # the meter is closed before the interrupt's message
            campaign, finding = explore(model, seed=args.seed, examples=args.examples, steps=args.steps,
                                        pes=args.pes, on_step=meter.advance, scenarios=scenarios)
    except KeyboardInterrupt as interrupt:
        raise Interrupted(f"{meter.done} transitions run (seed {args.seed}) before the interrupt; "
                          "no verdict") from interrupt
    rate = campaign.steps / campaign.seconds if campaign.seconds else 0.0
    if args.json:
        # no time in it: the same seed gives the same report, byte for byte (time is the text's)
        print(json.dumps({"steps": campaign.steps, "seed": args.seed, "pes": args.pes,
                          "violation": None if finding is None else
                          {"message": finding.message, "trace": finding.trace}}, indent=2))
    else:
        print(f"{campaign.steps} transitions in {campaign.seconds:.1f} s ({rate:,.0f}/s), "
              f"seed {args.seed}, {args.pes} PEs, from the initial state and {len(scenarios)} scenarios")
        if finding is None:
            print("OK: every invariant held after every step, and every observation agreed between "
                  "the two runs while their schedules did")
        else:
            print(f"VIOLATION: {finding.message}")
            print("shrunk trace:")
            for number, line in enumerate(finding.trace, start=1):
                print(f"  {number:3}. {line}")
    return ExitCode.OK if finding is None else ExitCode.FAILED


def cmd_table1(args: argparse.Namespace) -> int:
    from hypspec.model.program import load_model
    from hypspec.model.table1 import REPORT_FORMAT, table1_rows, unswitched_writable
    from hypspec.proof.mutants import patched_tree, variant

    if args.variant is not None:  # `--variant ""` names no variant, and is refused as unknown
        with patched_tree(*variant(args.variant)) as root:
            model = load_model(root=root)
            rows, missing = table1_rows(model), unswitched_writable(model)
    else:
        model = load_model(args.model)
        rows, missing = table1_rows(model), unswitched_writable(model)
    if args.json:
        print(json.dumps({"format": REPORT_FORMAT, "rows": [r.__dict__ for r in rows],
                          "writable_not_switched": missing}, indent=2))
        return ExitCode.OK
    width = max(len(r.state) for r in rows)
    print(f"{'state':<{width}}  model  paper  what the model counts")
    for r in rows:
        print(f"{r.state:<{width}}  {r.model:>5}  {r.paper:>5}  {r.counted}")
    print()
    for r in rows:
        if r.note:
            print(f"- {r.state}: {r.note}")
    print()
    if missing:
        print("guest-writable system registers the world switch does not move: " + ", ".join(missing))
    else:
        print("every system register a guest can write without a trap is moved by the world switch")
    return ExitCode.OK
