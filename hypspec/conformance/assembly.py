"""The static assembly sources of the harnesses, shipped as package data.

Every harness (``harness/<name>.s``) is assembled after the shared prelude
(``harness/prelude.s``: the architectural constants, the boot macro, the UART printers, the exit,
the watchdog's GIC set-up), so an image's source is: generated ``.equ`` constants, the prelude,
the harness, then the generated guest code and case records.  The helpers for the generated
parts that all three lowerings use are here too.
"""

from __future__ import annotations

from importlib import resources

PRELUDE = "prelude.s"


def _read(name: str) -> str:
    return resources.files("hypspec.conformance").joinpath(f"harness/{name}").read_text()


def harness_source(name: str) -> str:
    """The prelude followed by ``harness/<name>``."""
    return _read(PRELUDE) + "\n" + _read(name)


def equ(name: str, value: int) -> str:
    """A generated ``.equ`` line."""
    return f"        .equ {name + ',':<24} {value:#x}"


def comment_safe(text: str, limit: int = 96) -> str:
    """A case id as it may appear in an assembler comment: printable ASCII, one line."""
    safe = "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in text)
    return safe if len(safe) <= limit else safe[: limit - 3] + "..."


#: Guest PL1 vector n reports itself to Hyp with ``hvc #(GUEST_VECTOR_HVC + n)`` (every harness).
GUEST_VECTOR_HVC = 0xE0
GUEST_VECTOR_NAMES = (
    "reset",
    "undefined_instruction",
    "supervisor_call",
    "prefetch_abort",
    "data_abort",
    "unused_vector",
    "irq",
    "fiq",
)
