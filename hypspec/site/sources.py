"""The pages of the site: the chapters of each tree in manifest order, then the guides."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hypspec.lang.diagnostics import Diagnostic, SpecError
from hypspec.lang.literate import read_manifest
from hypspec.lang.load import display_name
from hypspec.lang.syntax import Loc

# The trees a reader meets, in reading order, with the title of their part of the site.
TREES = (("Architecture", "spec"), ("KVM/ARM model", "models/kvm_arm"), ("Properties", "proofs"))
GUIDES_TITLE = "Guides"
# The guides in the order a newcomer reads them; any other page of docs/ follows, by name.
GUIDE_ORDER = ("language.md", "conventions.md", "proofs.md", "models.md", "vectors.md", "cli.md")
_TITLE = re.compile(r"^#\s+(.*?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Page:
    path: str  # where the page sits in the site, as its source sits in the repository
    source: Path
    display: str  # the source as the loader's diagnostics (and so every Loc) name it
    title: str
    text: str
    chapter: bool  # a chapter of a spec tree, whose ```spec blocks are definitions


@dataclass(frozen=True)
class Part:
    title: str
    pages: list[Page]


def read_parts(root: Path) -> list[Part]:
    """Every page of the site, grouped as the navigation shows them."""
    parts = [Part(title, _tree_pages(root, root / tree)) for title, tree in TREES]
    guides = _guide_pages(root)
    if guides:
        parts.append(Part(GUIDES_TITLE, guides))
    return parts


def _tree_pages(root: Path, tree: Path) -> list[Page]:
    pages = [_page(root, path, chapter=True) for path in read_manifest(tree).chapters]
    guide = tree / "README.md"  # a tree's reading guide opens its part of the site
    if guide.is_file():
        pages.insert(0, _page(root, guide, chapter=False, path=_relative(root, tree) + "/index.md"))
    return pages


def _guide_pages(root: Path) -> list[Page]:
    docs = root / "docs"
    if not docs.is_dir():
        return []
    names = sorted(p.name for p in docs.glob("*.md"))
    ordered = [n for n in GUIDE_ORDER if n in names] + [n for n in names if n not in GUIDE_ORDER]
    return [_page(root, docs / name, chapter=False) for name in ordered]


def _page(root: Path, source: Path, chapter: bool, path: str | None = None) -> Page:
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError([Diagnostic(Loc(display_name(source), 1, 1), f"cannot read: {err}")]) from err
    title = _TITLE.search(text)
    if title is None:
        where = Loc(display_name(source), 1, 1)
        raise SpecError([Diagnostic(where, "a page needs a '# Title' heading for the site's navigation")])
    return Page(path or _relative(root, source), source, display_name(source),
                title.group(1).replace("`", ""), text, chapter)


def _relative(root: Path, path: Path) -> str:
    return path.resolve().relative_to(root.resolve()).as_posix()
