"""The literate loader: Markdown chapters in, code blocks with positions out.

A chapter is Markdown. Only fenced blocks whose info string is `spec` are code;
the prose around them is the annotation. Each block holds one definition and
sits under a heading that names it in backticks, followed by a `*Source:*`
line that cites the ARM ARM or the paper. That makes the table of contents an
index of the specification, and the build rejects a block that breaks it.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from hypspec.arguments import MAX_TIMEOUT_SECONDS
from hypspec.lang.diagnostics import Diagnostic, SpecError, split_lines
from hypspec.lang.syntax import Loc

_FENCE = re.compile(r"^(```+|~~~+)\s*(\S*)\s*$")
_HEADING = re.compile(r"^#{1,6}\s+(.*)$")
_SOURCE = re.compile(r"^\*Source:\*")


@dataclass(frozen=True)
class CodeBlock:
    file: str
    first_line: int  # line number (1-based) of the first code line in `file`
    code: str
    heading: str | None
    heading_loc: Loc | None
    cited: bool  # a `*Source:*` line stands between the heading and the block


def extract_blocks(file: str, text: str) -> list[CodeBlock]:
    """Every ```spec block of a Markdown text, with its heading and citation."""
    blocks: list[CodeBlock] = []
    heading: str | None = None
    heading_loc: Loc | None = None
    cited = False
    lines = split_lines(text)
    number = 0
    while number < len(lines):
        line = lines[number]
        fence = _FENCE.match(line)
        if fence:
            marker, info = fence.group(1), fence.group(2)
            end = number + 1
            while end < len(lines) and not lines[end].startswith(marker):
                end += 1
            if end == len(lines):
                where = Loc(file, number + 1, 1)
                raise SpecError([Diagnostic(where, "code block never closed", line)])
            if info == "spec":
                code = "\n".join(lines[number + 1 : end])
                blocks.append(CodeBlock(file, number + 2, code, heading, heading_loc, cited))
            number = end + 1
            continue
        match = _HEADING.match(line)
        if match:
            heading, heading_loc, cited = match.group(1), Loc(file, number + 1, 1), False
        elif _SOURCE.match(line.strip()):
            cited = True
        number += 1
    return blocks


def heading_names(heading: str) -> set[str]:
    """The names a heading declares: each `Name` or `Name()` in backticks."""
    return {m.rstrip("()") for m in re.findall(r"`([^`]+)`", heading)}


@dataclass(frozen=True)
class Manifest:
    """The ordered chapters of one spec tree; the order is also the reading order."""

    root: Path
    chapters: list[Path]
    # The solver time each proof obligation of the tree's model is given, in seconds, when the
    # user names none (`hypspec prove --timeout`); None: the prover's default.
    obligation_timeout_s: float | None = None


# What a manifest may set.
MANIFEST_KEYS = ("chapters", "obligation_timeout_s")


def read_manifest(directory: Path) -> Manifest:
    path = directory / "manifest.toml"
    if not path.is_file():
        raise SpecError([Diagnostic(Loc(str(path), 1, 1), "no manifest.toml in this directory")])
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except UnicodeDecodeError as err:
        raise SpecError([Diagnostic(Loc(str(path), 1, 1), f"not UTF-8 text: {err.reason}")]) from err
    except tomllib.TOMLDecodeError as err:
        # tomllib gives the position only in its message: "... (at line 3, column 5)"
        at = re.search(r"\(at line (\d+), column (\d+)\)", str(err))
        line, col = (int(at.group(1)), int(at.group(2))) if at else (1, 1)
        loc = Loc(str(path), max(line, 1), max(col, 1))
        raise SpecError([Diagnostic(loc, f"malformed manifest: {err}")]) from err
    unknown = [key for key in data if key not in MANIFEST_KEYS]
    if unknown:
        raise SpecError([Diagnostic(_found(path, text, _key(unknown[0])),
                                    f"unknown manifest key {unknown[0]!r} (a manifest sets "
                                    f"{', '.join(MANIFEST_KEYS)})")])
    chapters = data.get("chapters")
    if not isinstance(chapters, list) or not all(isinstance(c, str) for c in chapters):
        raise SpecError(
            [Diagnostic(Loc(str(path), 1, 1), "manifest needs `chapters = [\"file.md\", ...]`")]
        )
    missing = [c for c in chapters if not (directory / c).is_file()]
    if missing:
        # at the first missing entry, its opening quote
        where = _found(path, text, rf"[\"']{re.escape(missing[0])}")
        raise SpecError([Diagnostic(where, f"manifest lists missing chapter(s): {missing}")])
    return Manifest(directory, [directory / c for c in chapters], _obligation_timeout(path, text, data))


def _obligation_timeout(path: Path, text: str, data: dict[str, object]) -> float | None:
    """The manifest's `obligation_timeout_s`, if it sets one: seconds, as `--timeout` takes them."""
    value = data.get("obligation_timeout_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not 0.001 <= value <= MAX_TIMEOUT_SECONDS:
        raise SpecError([Diagnostic(_found(path, text, _key("obligation_timeout_s")),
                                    f"obligation_timeout_s must be a number of seconds from 0.001 to "
                                    f"{MAX_TIMEOUT_SECONDS}, not {value!r}")])
    return float(value)


def _key(key: str) -> str:
    """A pattern for where a manifest sets `key`."""
    return rf"(?<![\w-]){re.escape(key)}(?=\s*=)"


def _found(path: Path, text: str, pattern: str) -> Loc:
    """Where `pattern` first matches in a manifest's text (its first line if nowhere)."""
    for number, source in enumerate(split_lines(text), start=1):
        if (match := re.search(pattern, source)) is not None:
            return Loc(str(path), number, match.start() + 1)
    return Loc(str(path), 1, 1)
