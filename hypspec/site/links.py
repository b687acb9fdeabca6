"""Links between pages: to a Markdown page (which MkDocs checks and rewrites) or, inside the raw
HTML of a spec block, straight to the HTML page MkDocs will write."""

from __future__ import annotations

import posixpath

from hypspec.site.definitions import Definition, anchor


def markdown_link(text: str, source_page: str, target: Definition, name: str | None = None) -> str:
    """A Markdown link from `source_page` to a definition (or to field `name` in its table)."""
    return f"[`{text}`]({_relative(source_page, target.page.path)}#{anchor(name or target.name)})"


def html_href(source_page: str, target: Definition, name: str | None = None) -> str:
    """An href for raw HTML, which MkDocs leaves alone: relative to the HTML file MkDocs makes
    of `source_page` (the site is built with use_directory_urls off, so a.md becomes a.html)."""
    return f"{_relative(_html(source_page), _html(target.page.path))}#{anchor(name or target.name)}"


def _html(page: str) -> str:
    return page[: -len(".md")] + ".html" if page.endswith(".md") else page


def _relative(source: str, target: str) -> str:
    if source == target:
        return ""
    return posixpath.relpath(target, posixpath.dirname(source) or ".")
