"""A spec block as HTML: the code as written, each use of a definition a link to it.

A fenced code block cannot hold links, so the block is written as the HTML MkDocs' highlighter
would make (`div.highlight > pre > code`, with Pygments' class names, so the theme colours it)
and the links go inside. Colouring is lexical and only for the eye; the links come from the
syntax tree (`uses`).
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from hypspec.lang.parser import keywords
from hypspec.site.uses import Use

# The language's type words, coloured as types; every other word the grammar spells out is a
# keyword (`hypspec.lang.parser.keywords`).
TYPE_WORDS = frozenset({"bits", "boolean", "integer"})
KEYWORDS = keywords() - TYPE_WORDS
_LEXEME = re.compile(r"(?P<comment>//.*)|(?P<bits>'[01x ]*')|(?P<number>0[xX][0-9A-Fa-f_]+|\d[\d_]*)"
                     r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<other>.)")
_CLASS = {"comment": "c1", "bits": "s", "number": "mi"}


def render_block(code: str, first_line: int, uses: list[Use], href: Callable[[Use], str],
                 element_id: str | None = None) -> str:
    """The HTML of a block whose first code line is line `first_line` of its chapter; with an
    `element_id`, the block is that anchor (a definition that shares its heading)."""
    by_line: dict[int, list[Use]] = {}
    for use in uses:
        by_line.setdefault(use.line, []).append(use)
    lines = [_render_line(text, by_line.get(first_line + i, []), href) for i, text in
             enumerate(code.split("\n"))]
    attribute = f' id="{html.escape(element_id, quote=True)}"' if element_id else ""
    return (f'<div class="highlight spec-block"{attribute}><pre><code>' + "\n".join(lines)
            + "</code></pre></div>")


def _render_line(text: str, uses: list[Use], href: Callable[[Use], str]) -> str:
    starts = {use.col - 1: use for use in uses}
    out: list[str] = []
    at = 0
    while at < len(text):
        use = starts.get(at)
        if use is not None:
            shown = html.escape(text[at : at + use.length])
            title = html.escape(use.target, quote=True)
            out.append(f'<a class="spec-ref" href="{html.escape(href(use), quote=True)}" '
                       f'title="{title}">{shown}</a>')
            at += use.length
            continue
        # stop a lexeme at the next link, which may start inside a dotted name (`desc.Valid`)
        stop = min((c for c in starts if c > at), default=len(text))
        match = _LEXEME.match(text, at, stop)
        assert match is not None  # `other` matches any single character
        out.append(_coloured(match))
        at = match.end()
    return "".join(out)


def _coloured(match: re.Match[str]) -> str:
    kind = match.lastgroup or "other"
    text = html.escape(match.group(0))
    if kind == "word":
        word = match.group(0)
        css = "k" if word in KEYWORDS else "kt" if word in TYPE_WORDS else ""
        return f'<span class="{css}">{text}</span>' if css else text
    css = _CLASS.get(kind, "")
    return f'<span class="{css}">{text}</span>' if css else text
