"""The known-deviations file (``known_deviations.toml``): the disagreements between the spec and
an implementation that have been judged, each with its reason and the section that decides it.

A disagreement is *known* when an entry matches its category and field, and the vector carries
the entry's ``flag`` and every one of its ``flags`` (those it names); ``differs_in`` limits an
exact script read's differing bits.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypspec.categories.registry import harnesses
from hypspec.conformance.compare import Disagreement
from hypspec.conformance.defaults import DEFAULT_DEVIATIONS
from hypspec.conformance.errors import ConformanceInputError

#: Field names a disagreement (and a deviation entry) can carry; ``memory`` stands for
#: ``memory[<pa>]``, ``read`` (script vectors) for ``read[<step>]``.
FIELDS = tuple(dict.fromkeys(name for harness in harnesses() for name in harness.fields))


@dataclass(frozen=True)
class Deviation:
    """An explained disagreement between the spec and an implementation."""

    id: str
    category: str
    fields: tuple[str, ...]
    flag: str | None
    reason: str
    citation: str
    right: str  # "spec" or "implementation"
    flags: tuple[str, ...] = ()  # every one must be a flag of the vector, as must ``flag``
    differs_in: int | None = None  # script reads: every differing bit must be one of these

    def matches(self, disagreement: Disagreement) -> bool:
        required = (*self.flags, *([self.flag] if self.flag is not None else []))
        within = self.differs_in is None or (
            disagreement.xor is not None and disagreement.xor & ~self.differs_in == 0
        )
        return (
            disagreement.category == self.category
            and disagreement.base_field in self.fields
            and all(flag in disagreement.flags for flag in required)
            and within
        )


class DeviationsFileError(ConformanceInputError):
    """The known-deviations file is not valid TOML or an entry is malformed."""


_DEVIATION_KEYS = {"id", "category", "fields", "flag", "flags", "differs_in", "reason", "citation", "right"}


_DEVIATION_REQUIRED = _DEVIATION_KEYS - {"flag", "flags", "differs_in"}


_HEX = re.compile(r"0x[0-9a-f]+")


_ID = re.compile(r"[a-z0-9][a-z0-9-]*")


_CATEGORY = re.compile(r"[a-z0-9]+")


_FLAG = re.compile(r"[A-Z0-9_]+")


_SECTION = re.compile(r"\b[A-D]\d+(\.\d+)*\b")


_GIC_SECTION = re.compile(r"§\d+(\.\d+)*")


def _entry_error(path: Path, index: int, entry: dict[str, Any], message: str) -> DeviationsFileError:
    name = f" (id {entry['id']!r})" if isinstance(entry.get("id"), str) else ""
    return DeviationsFileError(f"{path}: [[deviation]] entry {index}{name}: {message}")


def _nonempty_string(entry: dict[str, Any], key: str) -> str | None:
    value = entry[key]
    if not isinstance(value, str) or not value.strip():
        return f"'{key}' must be a non-empty string, not {value!r}"
    return None


def _entry_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with one ``[[deviation]]`` table, or None."""
    unknown = sorted(set(entry) - _DEVIATION_KEYS)
    if unknown:
        return f"unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_DEVIATION_KEYS))})"
    missing = sorted(_DEVIATION_REQUIRED - set(entry))
    if missing:
        return f"missing key {missing[0]!r} (required: {', '.join(sorted(_DEVIATION_REQUIRED))})"
    for key in ("id", "category", "reason", "citation"):
        if problem := _nonempty_string(entry, key):
            return problem
    if not _ID.fullmatch(entry["id"]):
        return f"'id' {entry['id']!r} must match [a-z0-9][a-z0-9-]*"
    if not _CATEGORY.fullmatch(entry["category"]):
        return f"'category' {entry['category']!r} must match [a-z0-9]+ (a vector file's meta.category)"
    fields = entry["fields"]
    if not isinstance(fields, list) or not fields or not all(isinstance(f, str) for f in fields):
        return f"'fields' must be a non-empty list of field names, not {fields!r}"
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        return f"'fields' has {bad[0]!r}, which is not a compared field (one of: {', '.join(FIELDS)})"
    flag = entry.get("flag")
    if flag is not None and not (isinstance(flag, str) and _FLAG.fullmatch(flag)):
        return f"'flag' {flag!r} must be a vector flag, matching [A-Z0-9_]+"
    flags = entry.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) and _FLAG.fullmatch(f) for f in flags):
        return f"'flags' {flags!r} must be a list of vector flags, each matching [A-Z0-9_]+"
    citation = entry["citation"]
    arm_arm = "DDI 0406C.d" in citation and _SECTION.search(citation)
    gic = "IHI 0048B" in citation and _GIC_SECTION.search(citation)
    if not (arm_arm or gic):
        return (
            f"'citation' {citation!r} must cite the section that decides the question, as "
            "'ARM DDI 0406C.d §B3.13.6' or, for the GIC, 'ARM IHI 0048B.b §5.3.3' (it must "
            "contain 'DDI 0406C.d' and a section, or 'IHI 0048B' and a § section)"
        )
    differs_in = entry.get("differs_in")
    if differs_in is not None and not (isinstance(differs_in, str) and _HEX.fullmatch(differs_in)):
        return f"'differs_in' {differs_in!r} must be a lowercase hex string such as \"0x1c00\""
    if entry["right"] not in ("spec", "implementation"):
        return f'\'right\' must be "spec" or "implementation", not {entry["right"]!r}'
    return None


def load_deviations(path: Path = DEFAULT_DEVIATIONS) -> list[Deviation]:
    """Read and validate a known-deviations file; errors name the file and the entry (1-based)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise DeviationsFileError(f"{path}: cannot read the deviations file: {err}") from err
    except tomllib.TOMLDecodeError as err:
        raise DeviationsFileError(f"{path}: not valid TOML: {err}") from err
    extra = sorted(set(data) - {"deviation"})
    if extra:
        raise DeviationsFileError(
            f"{path}: unknown top-level key {extra[0]!r}: the file holds only [[deviation]] entries"
        )
    entries = data.get("deviation", [])
    if not isinstance(entries, list):
        raise DeviationsFileError(f"{path}: 'deviation' must be an array of tables: [[deviation]]")
    deviations: list[Deviation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise DeviationsFileError(f"{path}: [[deviation]] entry {index} is not a table")
        problem = _entry_problem(entry)
        if problem is None and entry["id"] in seen:
            problem = f"id {entry['id']!r} is used by an earlier entry"
        if problem is not None:
            raise _entry_error(path, index, entry, problem)
        seen.add(entry["id"])
        deviations.append(
            Deviation(
                id=entry["id"],
                category=entry["category"],
                fields=tuple(entry["fields"]),
                flag=entry.get("flag"),
                reason=entry["reason"],
                citation=entry["citation"],
                right=entry["right"],
                flags=tuple(entry.get("flags", [])),
                differs_in=int(entry["differs_in"], 16) if "differs_in" in entry else None,
            )
        )
    return deviations


def match_deviation(disagreement: Disagreement, deviations: Sequence[Deviation]) -> Deviation | None:
    """The first deviation that explains ``disagreement``, or None."""
    return next((d for d in deviations if d.matches(disagreement)), None)
