"""Exceptions raised by the conformance harness.

Every message says what went wrong and what to do about it, because these errors surface in
CI logs far away from the code that raised them.
"""

from __future__ import annotations


class ConformanceError(Exception):
    """Base class of every error raised by :mod:`hypspec.conformance`."""


class ConformanceInputError(ConformanceError, ValueError):
    """A test case cannot be run by the harness as given (the case, not the harness, is wrong)."""


class ToolchainMissingError(ConformanceError):
    """An external program the harness needs (assembler, linker, QEMU) is not installed."""


class HarnessBuildError(ConformanceError):
    """Assembling or linking a generated image failed: a bug in the lowering."""


class HarnessRunError(ConformanceError):
    """QEMU failed, printed something the harness never prints, or the harness itself faulted."""
