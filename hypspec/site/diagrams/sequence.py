"""A sequence diagram drawn as SVG by hand: lifelines side by side, one message a row. Graphviz
has no sequence layout, and this one is simple enough to lay out exactly."""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

_COLUMN = 250  # between lifelines
_ROW = 26
_HEAD = 46  # the lifelines' title boxes
_CHAR = 6.6  # the width of one character of the 11px monospace labels
_MARGIN = 20


@dataclass(frozen=True)
class Message:
    source: str
    target: str
    text: str
    faint: bool = False  # not always sent (inside an `if`)


@dataclass(frozen=True)
class Section:
    title: str
    messages: tuple[Message, ...]


def sequence_svg(lifelines: tuple[str, ...], sections: list[Section]) -> str:
    x = {name: _MARGIN + _COLUMN // 2 + number * _COLUMN for number, name in enumerate(lifelines)}
    width = _MARGIN * 2 + _COLUMN * len(lifelines)
    rows = sum(len(section.messages) + 1 for section in sections)
    height = _HEAD + _ROW * (rows + 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" font-size="11">',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
             'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z"/></marker></defs>']
    for name, at in x.items():
        parts.append(f'<rect x="{at - 95}" y="8" width="190" height="28" rx="6" fill="#f5f5f5" '
                     f'stroke="#333"/><text x="{at}" y="26" text-anchor="middle">{escape(name)}</text>'
                     f'<line x1="{at}" y1="36" x2="{at}" y2="{height - 8}" stroke="#999" '
                     f'stroke-dasharray="4 3"/>')
    y = _HEAD
    for section in sections:
        y += _ROW
        parts.append(f'<text x="{_MARGIN}" y="{y - 4}" font-weight="bold">{escape(section.title)}</text>'
                     f'<line x1="{_MARGIN}" y1="{y + 2}" x2="{width - _MARGIN}" y2="{y + 2}" stroke="#ccc"/>')
        for message in section.messages:
            y += _ROW
            parts.append(_message(message, x[message.source], x[message.target], y))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _message(message: Message, start: int, end: int, y: int) -> str:
    style = ' stroke-dasharray="5 3" opacity="0.7"' if message.faint else ""
    label = escape(message.text)
    if start == end:  # a step on the lifeline's own state: a small loop, its label beside it
        path = (f'<path d="M{start},{y - 8} h22 v10 h-20" fill="none" stroke="#333"'
                f' marker-end="url(#arrow)"{style}/>')
        return path + f'<text x="{start + 28}" y="{y}" font-family="monospace">{label}</text>'
    line = (f'<line x1="{start}" y1="{y}" x2="{end}" y2="{y}" stroke="#333"'
            f' marker-end="url(#arrow)"{style}/>')
    middle = (start + end) / 2
    # a label wider than its arrow starts at the arrow's left end and runs on to the right
    if len(message.text) * _CHAR > abs(end - start):
        anchor, at = "start", min(start, end) + 4
    else:
        anchor, at = "middle", middle
    return line + f'<text x="{at}" y="{y - 4}" text-anchor="{anchor}" font-family="monospace">{label}</text>'
