"""The interface between the spec side and the bare-metal Stage-2 conformance harness.

A :class:`Stage2Case` is the stimulus of one test vector: the Stage-2 configuration (VTCR,
VTTBR), the physical memory the walk and the access will see, and one guest access.  A
:class:`Stage2Observation` is what the target did.  Both are plain data so that the generator,
the harness and the comparison code can evolve independently.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Access = Literal["read", "write", "fetch"]


@dataclass(frozen=True)
class Stage2Case:
    """One Stage-2 access to run on the target: the stimulus of a vector."""

    id: str
    vtcr: int  # 32-bit VTCR value
    vttbr: int  # 64-bit VTTBR value
    memory: dict[int, int]  # 8-byte-aligned PA -> 64-bit word (tables, data words, fetch targets)
    access: Access
    ipa: int  # < 2**32 (guest runs with its MMU off, so VA == IPA)
    size: int = 4  # bytes: 1, 2 or 4 for read/write; 4 for fetch
    signed: bool = False  # LDRSB / LDRSH (read only)
    rt: int = 1  # transfer register r0..r12 for read/write
    value: int = 0  # value stored by a write (low `size` bytes used)


@dataclass(frozen=True)
class Stage2Observation:
    """What the target did for one :class:`Stage2Case` (fields not meaningful are None)."""

    id: str
    outcome: Literal["ok", "hyp_abort", "guest_exception", "no_report"]
    hsr: int | None = None
    hdfar: int | None = None
    hifar: int | None = None
    hpfar: int | None = None
    # read: the register value after the load (32-bit, sign/zero-extended as the instruction does)
    value: int | None = None
    # write: the 64-bit word at the written PA's 8-aligned address after the store, read by Hyp
    word_after: int | None = None
    detail: str = ""  # e.g. which guest exception, or raw line
