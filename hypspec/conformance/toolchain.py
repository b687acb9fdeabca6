"""External tools: find them, assemble and link an image, and write images for later runs.

The harness needs three programs from Debian packages (``qemu-system-arm`` and
``binutils-arm-none-eabi``).  They are looked up on PATH every time rather than cached, so a test
that hides them sees the same error a machine without them would.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from hypspec.conformance import layout
from hypspec.conformance.errors import HarnessBuildError, ToolchainMissingError

ASSEMBLER = "arm-none-eabi-as"
LINKER = "arm-none-eabi-ld"
QEMU = "qemu-system-arm"
INSTALL_HINT = "apt-get install qemu-system-arm binutils-arm-none-eabi"

#: Seconds allowed for one assembler or linker run: generous, a 2000-case image takes < 1 s.
BUILD_TIMEOUT = 120

C = TypeVar("C")


@dataclass(frozen=True)
class Toolchain:
    """Absolute paths of the programs the harness runs."""

    assembler: str
    linker: str
    qemu: str


def find_toolchain() -> Toolchain:
    """The tools on PATH, or :class:`ToolchainMissingError` naming what to install."""
    found = {name: shutil.which(name) for name in (ASSEMBLER, LINKER, QEMU)}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        raise ToolchainMissingError(
            f"the Stage-2 conformance harness needs {', '.join(missing)} on PATH; "
            f"install them with: {INSTALL_HINT}"
        )
    return Toolchain(found[ASSEMBLER], found[LINKER], found[QEMU])  # type: ignore[arg-type]


def qemu_command(toolchain: Toolchain, elf: Path) -> list[str]:
    """The QEMU invocation for an image: Cortex-A15 with the Virtualization Extensions.

    ``-nodefaults`` keeps QEMU from adding devices (NIC, ...) a stray guest write could poke;
    the PL011 is then given explicitly as ``-serial stdio``, the report channel.  Semihosting
    provides the exit; ``-no-reboot`` turns a reset request into an exit instead of a loop.
    """
    return [
        toolchain.qemu,
        "-M",
        "virt,virtualization=on",
        "-cpu",
        "cortex-a15",
        "-m",
        str(layout.QEMU_MEMORY_MIB),
        "-nodefaults",
        "-display",
        "none",
        "-monitor",
        "none",
        "-serial",
        "stdio",
        "-semihosting",
        "-no-reboot",
        "-kernel",
        str(elf),
    ]


def _linker_symbols() -> dict[str, int]:
    return {
        "HARNESS_BASE": layout.HARNESS_BASE,
        "HARNESS_END": layout.HARNESS_BASE + layout.HARNESS_SIZE,
        "GUEST_BASE": layout.GUEST_BASE,
        "GUEST_END": layout.GUEST_BASE + layout.GUEST_SIZE,
        "CASES_BASE": layout.CASES_BASE,
        "CASES_END": layout.CASES_END,
    }


def _run_tool(argv: list[str], what: str) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise HarnessBuildError(f"{what} did not finish in {BUILD_TIMEOUT} s: {argv}") from exc
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip().splitlines()
        shown = "\n".join(output[:40])
        more = f"\n... ({len(output) - 40} more lines)" if len(output) > 40 else ""
        raise HarnessBuildError(f"{what} failed (exit {done.returncode}):\n{shown}{more}")


def build_elf(
    source: str, workdir: Path, *, name: str = "stage2", toolchain: Toolchain | None = None
) -> Path:
    """Assemble and link ``source`` into ``workdir/<name>.elf`` (keeping ``<name>.s``)."""
    tools = toolchain or find_toolchain()
    workdir.mkdir(parents=True, exist_ok=True)
    src = workdir / f"{name}.s"
    obj = workdir / f"{name}.o"
    elf = workdir / f"{name}.elf"
    src.write_text(source)
    _run_tool(
        [tools.assembler, "-mcpu=cortex-a15", "--fatal-warnings", "-o", str(obj), str(src)],
        f"assembling {src}",
    )
    with resources.as_file(
        resources.files("hypspec.conformance").joinpath("harness/stage2.ld")
    ) as script:
        defsyms = [f"--defsym={key}={value:#x}" for key, value in _linker_symbols().items()]
        _run_tool(
            [
                tools.linker,
                "-T",
                str(script),
                *defsyms,
                "--no-warn-rwx-segments",  # one flat image: Hyp code and data share a segment
                "-o",
                str(elf),
                str(obj),
            ],
            f"linking {elf}",
        )
    obj.unlink()
    return elf


def emit_batches(
    cases: Sequence[C],
    out_dir: Path,
    *,
    batch: int,
    prefix: str,
    lower: Callable[[Sequence[C]], str],
    describe: Callable[[Sequence[C]], dict[str, Any]],
) -> list[Path]:
    """Write ``<prefix>_NNN.{s,elf,json}`` per batch of ``cases`` to ``out_dir``; return the ELFs.

    ``lower`` gives a batch's assembly source, ``describe`` its manifest, to which the ELF's
    name and the QEMU command that runs it are added, so that an image can be rerun (or run on
    other hardware) without Python.
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, not {batch}")
    tools = find_toolchain()
    out_dir.mkdir(parents=True, exist_ok=True)
    elves = []
    for number, start in enumerate(range(0, len(cases), batch)):
        chunk = cases[start : start + batch]
        name = f"{prefix}_{number:03d}"
        elf = build_elf(lower(chunk), out_dir, name=name, toolchain=tools)
        described = describe(chunk)
        manifest = {
            "format": described.pop("format"),
            "elf": elf.name,
            "qemu": qemu_command(tools, Path(elf.name)),
            **described,
        }
        (out_dir / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        elves.append(elf)
    return elves
