"""Diagnostics: every error in spec text names file:line:col and shows the line."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypspec.lang.syntax import Loc


@dataclass(frozen=True)
class Diagnostic:
    loc: Loc
    message: str
    source_line: str = ""

    def render(self) -> str:
        text = f"{self.loc}: error: {self.message}"
        if self.source_line:
            caret = " " * (max(self.loc.col, 1) - 1) + "^"
            text += f"\n    {self.source_line}\n    {caret}"
        return text


class SpecError(Exception):
    """One or more diagnostics: the spec text is malformed or ill-typed."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.render() for d in diagnostics))


def split_lines(text: str) -> list[str]:
    """The lines of a text as editors and the parser count them: broken at '\n' only.

    (`str.splitlines` also breaks at form feeds, '\x1c'..'\x1e', NEL and U+2028/9,
    which would shift every later line number.)
    """
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


@dataclass
class SourceMap:
    """The text of every file loaded, so a diagnostic can quote its line."""

    files: dict[str, list[str]] = field(default_factory=dict)

    def add(self, name: str, text: str) -> None:
        self.files[name] = split_lines(text)

    def line(self, loc: Loc) -> str:
        lines = self.files.get(loc.file, [])
        return lines[loc.line - 1] if 0 < loc.line <= len(lines) else ""


@dataclass
class Reporter:
    """Collects diagnostics so a run reports every error, not only the first."""

    sources: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, loc: Loc, message: str) -> None:
        self.diagnostics.append(Diagnostic(loc, message, self.sources.line(loc)))

    def raise_if_any(self) -> None:
        if self.diagnostics:
            ordered = sorted(self.diagnostics, key=lambda d: (d.loc.file, d.loc.line, d.loc.col))
            raise SpecError(ordered)
