"""The Markdown of each page: a chapter as written, its definitions' headings anchored, its spec
blocks linked, and under each definition what uses it, which properties rest on it and which
mutants change it. Prose, `*Source:*` lines and deviation notes pass through as written."""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from hypspec.lang.checker import mask
from hypspec.lang.diagnostics import split_lines
from hypspec.proof.mutants import Mutant, obligation_subject
from hypspec.site.catalog import Catalog
from hypspec.site.code import render_block
from hypspec.site.definitions import Definition, anchor, layout_of
from hypspec.site.figures import Figure
from hypspec.site.graph import PROVED_KINDS
from hypspec.site.links import html_href, markdown_link
from hypspec.site.sources import Page
from hypspec.site.status_pages import Note

_FENCE = re.compile(r"^(```+|~~~+)\s*(\S*)\s*$")  # as the literate loader reads fences
_HEADING = re.compile(r"^#{1,6}\s+\S")
_MARKDOWN_SPECIAL = re.compile(r"([\\*_\[\]])")
STYLESHEET = "assets/hypspec.css"
_CSS = """\
/* The reader's site (hypspec/site): links inside spec blocks, and the lists under a definition. */
.spec-block a.spec-ref { color: inherit; text-decoration: underline dotted; }
.spec-block a.spec-ref:hover { color: var(--md-accent-fg-color); }
.spec-refs { border-left: .2rem solid var(--md-default-fg-color--lightest); padding-left: .8rem;
  font-size: .7rem; }
.hypspec-figure img { max-width: 100%; background: #fff; }
.hypspec-figure figcaption { font-size: .7rem; max-width: none; }
"""


def write_pages(catalog: Catalog, docs_dir: Path, figures: Sequence[Figure] = (),
                notes: Mapping[str, list[Note]] | None = None) -> None:
    """Write every page, the home page, the stylesheet and the figures under `docs_dir`; `notes`
    are what the status reports say under each definition."""
    for page in catalog.pages:
        text = chapter_markdown(page, catalog, figures, notes) if page.chapter else page.text
        _write(docs_dir / page.path, text)
    for figure in figures:
        _write(docs_dir / figure.path, figure.svg)
    _write(docs_dir / "index.md", home_markdown(catalog))
    _write(docs_dir / STYLESHEET, _CSS)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def home_markdown(catalog: Catalog) -> str:
    lines = ["# hypspec", "",
             "A formal, executable and readable specification of ARM split-mode virtualization "
             "(the ARMv7-A Virtualization Extensions) and of the KVM/ARM hypervisor built on it. "
             "Every name in a spec block links to its definition; under each definition are the "
             "definitions that use it, the properties that depend on it and the mutants that "
             "change it. Search finds a definition by its name (`HCR.TWI`, "
             "`AArch32.SecondStageWalk`).", ""]
    for part in catalog.parts:
        lines += [f"## {part.title}", ""]
        lines += [f"- [{page.title}]({page.path})" for page in part.pages]
        lines.append("")
    return "\n".join(lines)


def chapter_markdown(page: Page, catalog: Catalog, figures: Sequence[Figure] = (),
                     notes: Mapping[str, list[Note]] | None = None) -> str:
    notes = notes or {}
    here = sorted((d for d in catalog.definitions.values() if d.page.path == page.path),
                  key=lambda d: d.first_line)
    by_block = {d.first_line: d for d in here}
    by_heading: dict[int, list[Definition]] = {}
    for definition in here:
        by_heading.setdefault(definition.heading_line, []).append(definition)
    lines = split_lines(page.text)
    out: list[str] = []
    pending: list[Definition] = []  # definitions whose lists close their section
    number = 0
    while number < len(lines):
        line = lines[number]
        fence = _FENCE.match(line)
        if fence:
            end = _fence_end(lines, number, fence.group(1))
            definition = by_block.get(number + 2) if fence.group(2) == "spec" else None
            if definition is None:
                out.extend(lines[number : end + 1])
            else:
                shared = by_heading[definition.heading_line]
                out += ["", _block(definition, catalog, first=definition is shared[0]), ""]
                out += _bitfield_table(definition, catalog)
                out += [_figure(f, page) for f in figures if f.under == definition.name]
                pending.append(definition)
            number = end + 1
            continue
        if _HEADING.match(line):
            out += _lists(pending, catalog, notes)
            pending = []
            named = by_heading.get(number + 1)
            if named:
                line = f"{line.rstrip()} {{#{anchor(named[0].name)}}}"
        out.append(line)
        number += 1
    out += _lists(pending, catalog, notes)
    return "\n".join(out) + "\n"


def _fence_end(lines: list[str], start: int, marker: str) -> int:
    end = start + 1
    while end < len(lines) and not lines[end].startswith(marker):
        end += 1
    return end


def _block(definition: Definition, catalog: Catalog, first: bool) -> str:
    """The linked HTML of a definition's block. The first definition under a heading is anchored
    at the heading; another one sharing that heading is anchored at its block."""
    lines = split_lines(definition.page.text)[definition.first_line - 1 : definition.last_line]
    page = definition.page.path
    return render_block("\n".join(lines), definition.first_line, catalog.uses[definition.name],
                        lambda use: html_href(page, catalog.target(use.target), use.target),
                        None if first else anchor(definition.name))


def _figure(figure: Figure, page: Page) -> str:
    """A picture in Markdown (so MkDocs checks that its file exists), with its caption."""
    source = posixpath.relpath(figure.path, posixpath.dirname(page.path) or ".")
    return (f'<figure class="hypspec-figure" markdown id="figure-{figure.name}">\n\n'
            f"![{figure.name}]({source})\n\n<figcaption markdown>{figure.caption}</figcaption>\n</figure>\n")


def _bitfield_table(definition: Definition, catalog: Catalog) -> list[str]:
    """A register's or bitfield type's fields, high bit first, each row the field's anchor; a
    register's rows also give the field's value at reset."""
    layout = layout_of(catalog.program, definition.name)
    if layout is None:
        return []
    info = catalog.program.globals.get(definition.name)
    reset = info.reset if info is not None and info.is_register else None
    head = "<th>Field</th><th>Bits</th>" + ("<th>Reset</th>" if reset is not None else "")
    rows = []
    for name, hi, lo in layout.fields:
        bits = f"{hi}" if hi == lo else f"{hi}:{lo}"
        # the full name, as code writes it (`HCR.TWI`), which is also what search is asked for
        cells = f"<td><code>{html.escape(f'{definition.name}.{name}')}</code></td><td>{bits}</td>"
        if reset is not None:
            cells += f"<td><code>{_field_value((reset >> lo) & mask(hi - lo + 1), hi - lo + 1)}</code></td>"
        rows.append(f'<tr id="{html.escape(anchor(f"{definition.name}.{name}"), quote=True)}">{cells}</tr>')
    table = (f'<table class="bitfields" data-register="{html.escape(definition.name, quote=True)}">'
             f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return [table, ""]


def _field_value(value: int, width: int) -> str:
    """As the spec writes a value of that width: a bit string up to 8 bits, hexadecimal above."""
    return f"'{value:0{width}b}'" if width <= 8 else f"0x{value:0{(width + 3) // 4}x}"


def _lists(definitions: list[Definition], catalog: Catalog, notes: Mapping[str, list[Note]]) -> list[str]:
    out: list[str] = []
    for definition in definitions:
        items = _list_items(definition, catalog)
        items += [_note(note, definition.page.path) for note in notes.get(definition.name, [])]
        if not items:
            continue
        if len(definitions) > 1:  # several definitions share the section: say whose lists
            items.insert(0, f"**`{definition.name}`**")
        # kept out of the search index: searching a name should find its definition, not every
        # definition that lists it as a user
        out += ["", '<div class="spec-refs" markdown data-search-exclude="true">', "", *items, "</div>", ""]
    return out


def _list_items(definition: Definition, catalog: Catalog) -> list[str]:
    page = definition.page.path
    links = {
        "Used by": catalog.graph.used_by.get(definition.name, []),
        "Properties that depend on it": catalog.graph.dependents.get(definition.name, []),
    }
    items = [f"**{label}:** " + ", ".join(markdown_link(n, page, catalog.definitions[n]) for n in names)
             + "\n" for label, names in links.items() if names]
    changing = catalog.mutations.changing.get(definition.name, [])
    if changing:
        items.append("**Mutants that change it:**\n\n" + "".join(
            f"- `{m.name}`: {_prose(m.bug_class)}; caught by {_obligations(m, page, catalog)}\n"
            for m in changing))
    catching = catalog.mutations.catching.get(definition.name, [])
    if definition.kind in PROVED_KINDS and catching:
        items.append("**Mutants it must catch:**\n\n" + "".join(
            f"- `{m.name}`{_changes(m, page, catalog)}: {_prose(m.bug_class)}\n" for m in catching))
    return items


def _note(note: Note, page: str) -> str:
    """A report's line under a definition, linked to the status page that says more."""
    if note.page is None:
        return f"**{note.label}:** {note.text}\n"
    more = posixpath.relpath(note.page, posixpath.dirname(page) or ".")
    return f"**{note.label}:** {note.text} ([status]({more}))\n"


def _obligations(mutant: Mutant, page: str, catalog: Catalog) -> str:
    """The mutant's `caught_by`, each property or invariant a link to it."""
    shown = []
    for obligation in mutant.caught_by:
        name = obligation_subject(obligation)
        target = catalog.definitions.get(name)
        rest = _prose(obligation[len(name) :])
        shown.append((markdown_link(name, page, target) if target else f"`{name}`") + rest)
    return ", ".join(shown)


def _changes(mutant: Mutant, page: str, catalog: Catalog) -> str:
    changed = next((name for name, found in catalog.mutations.changing.items() if mutant in found), None)
    return f" (changes {markdown_link(changed, page, catalog.definitions[changed])})" if changed else ""


def _prose(text: str) -> str:
    """Text from a mutant file, shown as written: nothing in it is taken as Markdown or HTML."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))
