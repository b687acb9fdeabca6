"""The `hypspec` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from hypspec.api import SPEC_DIR, Spec, StateError, proof_tree
from hypspec.concrete.runtime import SpecAssertionError
from hypspec.conformance.conform import add_conform_parser
from hypspec.lang.diagnostics import SpecError
from hypspec.model.cli import add_explore_parser, add_table1_parser
from hypspec.model.program import ModelError
from hypspec.proof.report import positive_count, positive_seconds
from hypspec.vectors.generate import add_vectors_parser
from hypspec.vectors.store import VectorFileError


def _paths(given: Sequence[str], default: list[Path]) -> list[Path]:
    return [Path(p) for p in given] if given else default


def cmd_check(args: argparse.Namespace) -> int:
    spec = Spec.load(*_paths(args.paths, proof_tree()))
    program = spec.program
    print(
        f"ok: {len(spec.loaded.files)} chapter(s), {len(program.functions)} function(s) "
        f"({len(program.properties)} propert{'y' if len(program.properties) == 1 else 'ies'}), "
        f"{sum(1 for g in program.globals.values() if g.is_register)} register(s); "
        f"spec hash {spec.digest[:16]}"
    )
    return 0


def _parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in {"true", "false"}:
        return lowered == "true"
    try:
        return int(text, 0)
    except ValueError:
        return text  # an enumeration member, checked by the API


def _number(text: str, what: str) -> int:
    """A number as a user writes it on the command line (decimal, 0x, 0b, 0o)."""
    try:
        return int(text, 0)
    except ValueError:
        message = f"{what}: '{text}' is not a number (write it in decimal, or with 0x, 0b or 0o)"
        raise StateError(message) from None


def cmd_run(args: argparse.Namespace) -> int:
    spec = Spec.load(*_paths(args.spec, [SPEC_DIR]))
    registers: dict[str, object] = {}
    for assignment in args.set or []:
        name, _, value = assignment.partition("=")
        if not value:
            raise StateError(f"--set takes NAME=VALUE or REG.FIELD=VALUE, not '{assignment}'")
        if "." in name:
            reg, field_name = name.split(".", 1)
            fields = registers.setdefault(reg, {})
            if not isinstance(fields, dict):
                raise StateError(f"{reg} is set both whole and by field")
            fields[field_name] = _number(value, f"--set {name}")
        else:
            registers[name] = _number(value, f"--set {name}")
    memory = {}
    for word in args.mem or []:
        address, _, value = word.partition("=")
        if not value:
            raise StateError(f"--mem takes ADDRESS=WORD, not '{word}'")
        byte_address = _number(address, "--mem address")
        if byte_address % 8:
            raise StateError(f"--mem address {address}: physical memory is set a 64-bit word at a time, "
                             "at an address that is a multiple of 8")
        memory[byte_address >> 3] = _number(value, f"--mem {address}")
    if memory:
        registers["PhysMem"] = memory
    state = spec.state(**registers)
    result = spec.call(args.function, *(_parse_value(a) for a in args.args), state=state)
    reset = spec.state()
    changed = {
        name: getattr(state, name)
        for name, info in spec.program.globals.items()
        if info.is_register and getattr(state, name) != getattr(reset, name)
    }
    if args.json:
        print(json.dumps({"result": result, "registers": changed}, indent=2, sort_keys=True))
    else:
        print(f"{args.function} = {_pretty(result)}")
        for name, value in changed.items():
            print(f"  {name} = {value:#x}")
    return 0


def _pretty(value: object, indent: int = 0) -> str:
    if isinstance(value, dict):
        pad = "  " * (indent + 1)
        inner = "\n".join(f"{pad}{k}: {_pretty(v, indent + 1)}" for k, v in value.items())
        return "\n" + inner
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:#x}" if value > 9 else str(value)
    return str(value)


def cmd_prove(args: argparse.Namespace) -> int:
    from hypspec.proof.report import run_proofs

    return run_proofs(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hypspec", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="parse and type-check spec chapters")
    check.add_argument("paths", nargs="*", help="chapters or directories with a manifest.toml")
    check.set_defaults(run=cmd_check)

    run = sub.add_parser("run", help="evaluate a spec function concretely")
    run.add_argument("function")
    run.add_argument("args", nargs="*", help="arguments: numbers, TRUE/FALSE, enum members")
    run.add_argument("--set", action="append", metavar="REG[.FIELD]=VALUE")
    run.add_argument("--mem", action="append", metavar="ADDRESS=WORD", help="a 64-bit word")
    run.add_argument("--spec", action="append", default=[], help="spec paths (default spec/)")
    run.add_argument("--json", action="store_true")
    run.set_defaults(run=cmd_run)

    prove = sub.add_parser("prove", help="prove properties with Z3")
    prove.add_argument("properties", nargs="*", help="property names (default: all)")
    prove.add_argument("--json", action="store_true")
    prove.add_argument("--timeout", type=positive_seconds, default=20.0, help="seconds per obligation")
    prove.add_argument("--mutants", action="store_true",
                       help="also check that each mutant of the spec and of the model is caught")
    prove.add_argument("--jobs", type=positive_count, default=min(2, os.cpu_count() or 1),
                       help="processes for the model's obligations (default: 2, or 1 on one core)")
    prove.add_argument("--variant", metavar="NAME",
                       help="prove a variant of the model (models/kvm_arm/variants.toml), e.g. linux-3.10")
    prove.set_defaults(run=cmd_prove)

    add_explore_parser(sub)
    add_table1_parser(sub)

    add_vectors_parser(sub)
    add_conform_parser(sub)

    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except SpecError as err:
        print(err, file=sys.stderr)
        count = len(err.diagnostics)
        print(f"{count} error{'s' if count != 1 else ''}", file=sys.stderr)
        return 1
    except (StateError, KeyError, VectorFileError, ModelError) as err:
        # a KeyError's str() quotes its message; the message itself is what the user reads
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"hypspec: error: {message}", file=sys.stderr)
        return 2
    except OSError as err:  # an output directory that cannot be made or written, say
        print(f"hypspec: error: {err.strerror}: {err.filename}", file=sys.stderr)
        return 2
    except SpecAssertionError as err:
        # the inputs break a precondition the spec states (`run Rmode 15 ...`)
        print(f"hypspec: error: the spec's assert does not hold for these inputs: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
