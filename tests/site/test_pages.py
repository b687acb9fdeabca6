"""The site's generation, without MkDocs: links land on anchors that exist, the lists under a
definition are the right ones, and a chapter the checker rejects fails the build at its place."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hypspec.api import ROOT, Spec, proof_tree
from hypspec.site.build import generate
from hypspec.site.catalog import Catalog, make_catalog
from hypspec.site.cli import add_docs_parser, cmd_docs
from hypspec.site.mutations import read_all
from hypspec.site.pages import chapter_markdown
from hypspec.site.sources import read_parts

# A tree small enough to know every answer: a register, a constant, three functions and a
# property in three chapters, and one mutant.
SPEC_CHAPTER = """\
# Small

### `CTL`

*Source:* made up for the test. *Status:* Model-only.

```spec
register bits(8) CTL { 0 EN, 3:1 MODE, 7 LOCK } = 0x8A;
```

### `Width`

*Source:* made up for the test. *Status:* Model-only.

```spec
constant integer Width = 3;
```

### `Small.Mode()`

*Source:* made up for the test. *Status:* Model-only.

```spec
bits(3) Small.Mode()
    return CTL.MODE;
```

### `Small.Enabled()`

*Source:* made up for the test. *Status:* Model-only.

```spec
boolean Small.Enabled()
    return CTL.EN == '1' && UInt(Small.Mode()) < Width;
```
"""
MODEL_CHAPTER = """\
# Model

### `Small.Unused()`

*Source:* made up for the test. *Status:* Model-only.

```spec
boolean Small.Unused()
    return CTL.LOCK == '1';
```
"""
PROOF_CHAPTER = """\
# Proofs

### `Small.EnabledNeedsEN`

*Source:* made up for the test. *Status:* Model-only.

```spec
property Small.EnabledNeedsEN()
    return Small.Enabled() --> CTL.EN == '1';
```
"""
MUTANT = """\
[[mutant]]
name = "mode-from-lock"
bug_class = "the mode read from the <wrong> bits"
file = "spec/small.md"
find = "    return CTL.MODE;"
replace = "    return CTL<7:5>;"
caught_by = ["Small.EnabledNeedsEN"]
"""


def write_tree(root: Path, spec_chapter: str = SPEC_CHAPTER) -> Path:
    for directory, name, text in [("spec", "small.md", spec_chapter),
                                  ("models/kvm_arm", "model.md", MODEL_CHAPTER),
                                  ("proofs", "proofs.md", PROOF_CHAPTER)]:
        (root / directory).mkdir(parents=True)
        (root / directory / "manifest.toml").write_text(f'chapters = ["{name}"]\n')
        (root / directory / name).write_text(text)
    (root / "proofs" / "mutants").mkdir()
    (root / "proofs" / "mutants" / "small.toml").write_text(MUTANT)
    return root


@pytest.fixture
def small(tmp_path: Path) -> Catalog:
    root = write_tree(tmp_path)
    program = Spec.load(*proof_tree(root)).program
    return make_catalog(program, read_parts(root), read_all(root))


def test_used_by_lists_the_definitions_that_name_it(small: Catalog) -> None:
    assert small.graph.used_by["CTL"] == ["Small.Enabled", "Small.EnabledNeedsEN", "Small.Mode",
                                          "Small.Unused"]
    assert small.graph.used_by["Small.Mode"] == ["Small.Enabled"]
    assert small.graph.used_by["Width"] == ["Small.Enabled"]
    assert small.graph.used_by["Small.EnabledNeedsEN"] == []


def test_a_property_depends_on_what_it_reaches_through_calls(small: Catalog) -> None:
    # the property calls Small.Enabled, which calls Small.Mode, which reads CTL
    for reached in ("Small.Enabled", "Small.Mode", "Width", "CTL"):
        assert small.graph.dependents[reached] == ["Small.EnabledNeedsEN"]
    assert small.graph.dependents["Small.Unused"] == []


def test_a_mutant_belongs_to_the_definition_it_changes_and_the_property_that_catches_it(
        small: Catalog) -> None:
    assert [m.name for m in small.mutations.changing["Small.Mode"]] == ["mode-from-lock"]
    assert set(small.mutations.changing) == {"Small.Mode"}
    assert [m.name for m in small.mutations.catching["Small.EnabledNeedsEN"]] == ["mode-from-lock"]


def test_the_chapter_links_each_use_to_its_definition_and_lists_its_users(small: Catalog) -> None:
    page = next(p for p in small.pages if p.path == "spec/small.md")
    text = chapter_markdown(page, small)
    assert "### `Small.Mode()` {#Small.Mode}" in text
    assert "### `CTL` {#CTL}" in text
    # in Small.Enabled: the field, the call and the constant, each to its anchor on this page
    assert '<a class="spec-ref" href="#CTL.EN" title="CTL.EN">CTL.EN</a>' in text
    assert '<a class="spec-ref" href="#Small.Mode" title="Small.Mode">Small.Mode</a>' in text
    assert '<a class="spec-ref" href="#Width" title="Width">Width</a>' in text
    assert "**Used by:** [`Small.Enabled`](#Small.Enabled)\n" in text
    assert ("**Properties that depend on it:** "
            "[`Small.EnabledNeedsEN`](../proofs/proofs.md#Small.EnabledNeedsEN)") in text
    # the mutant's text is shown as written, not read as HTML
    assert "- `mode-from-lock`: the mode read from the &lt;wrong&gt; bits; caught by" in text
    assert text.count("*Source:* made up for the test. *Status:* Model-only.") == 4


def test_a_register_gets_its_bit_field_table_with_reset_values(small: Catalog) -> None:
    page = next(p for p in small.pages if p.path == "spec/small.md")
    rows = re.findall(r'<tr id="([^"]+)"><td><code>[^<]+</code></td><td>([^<]+)</td><td><code>([^<]+)</code>',
                      chapter_markdown(page, small))
    # reset 0x8A = 1000 1010: LOCK 1, MODE 101, EN 0; listed as declared
    assert rows == [("CTL.EN", "0", "'0'"), ("CTL.MODE", "3:1", "'101'"), ("CTL.LOCK", "7", "'1'")]


def test_a_property_lists_the_mutants_it_must_catch(small: Catalog) -> None:
    page = next(p for p in small.pages if p.path == "proofs/proofs.md")
    text = chapter_markdown(page, small)
    assert ("- `mode-from-lock` (changes [`Small.Mode`](../spec/small.md#Small.Mode)): "
            "the mode read from the &lt;wrong&gt; bits") in text


def _anchors(markdown: str) -> set[str]:
    return set(re.findall(r"\{#([^}\s]+)\}", markdown)) | set(re.findall(r'\bid="([^"]+)"', markdown))


def test_every_link_of_the_real_site_lands_on_an_anchor_that_exists(tmp_path: Path) -> None:
    catalog, config = generate(ROOT, tmp_path / "site")
    docs = config.parent / "docs"
    pages = {p.relative_to(docs).as_posix(): p.read_text() for p in docs.rglob("*.md")}
    anchors = {path: _anchors(text) for path, text in pages.items()}
    checked = 0
    # the chapters' links are generated; the guides' own are written by hand, and the strict
    # MkDocs build (tests/site/test_site_browser.py) holds them to their headings
    for path in (page.path for page in catalog.pages if page.chapter):
        text, base = pages[path], Path(path).parent
        for href in re.findall(r'href="([^"]*#[^"]+)"', text):  # raw HTML: to the .html MkDocs writes
            target, _, name = href.partition("#")
            page = (base / target).as_posix().removesuffix(".html") + ".md" if target else path
            assert name in anchors[_normal(page)], f"{path}: {href} has no anchor"
            checked += 1
        for target, name in re.findall(r"\]\(([^)#]*)#([^)]+)\)", text):  # Markdown links
            page = (base / target).as_posix() if target else path
            assert name in anchors[_normal(page)], f"{path}: {target}#{name} has no anchor"
            checked += 1
    assert checked > 5000  # every use in every block, and every list under every definition
    # every definition became a linked block, and every `*Source:*` line is still there
    blocks = sum(text.count('<div class="highlight spec-block"') for text in pages.values())
    assert blocks == len(catalog.definitions)
    for page in catalog.pages:
        assert pages[page.path].count("*Source:*") == page.text.count("*Source:*"), page.path


def _normal(path: str) -> str:
    parts: list[str] = []
    for part in path.split("/"):
        if part == "..":
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _build(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`python -m hypspec.site` as `make docs` runs it, from the directory above `root`, so the
    messages name the chapters `repo/spec/...`."""
    return subprocess.run([sys.executable, "-m", "hypspec.site", "--root", str(root), "--out", str(out)],
                          capture_output=True, text=True, cwd=root.parent)


def test_a_chapter_the_checker_rejects_fails_the_build_at_its_place(tmp_path: Path) -> None:
    broken = SPEC_CHAPTER.replace("    return CTL.MODE;", "    return CTL.MODE + TRUE;")
    root = write_tree(tmp_path / "repo", broken)
    line = broken.splitlines().index("    return CTL.MODE + TRUE;") + 1
    done = _build(root, tmp_path / "site")
    assert done.returncode == 1
    assert re.search(rf"repo/spec/small\.md:{line}:\d+: ", done.stderr), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "site" / "index.html").exists()


def _foreign_file_in_output(root: Path) -> None:
    (root.parent / "site").mkdir()
    (root.parent / "site" / "notes.txt").write_text("keep me")


def _guide_with_broken_link(root: Path) -> None:
    (root / "docs").mkdir()
    (root / "docs" / "guide.md").write_text("# Guide\n\nSee [the walk](nowhere.md#walk).\n")


@pytest.mark.parametrize(("spoil", "code", "message"), [
    # the build empties its output directory, so it will not take one it did not make
    (_foreign_file_in_output, 2, "holds files the site build did not write"),
    # MkDocs runs strict: a link to a page that does not exist is an error, not a warning
    (_guide_with_broken_link, 1, "nowhere.md"),
])
def test_the_build_stops_with_a_message(tmp_path: Path, spoil: Callable[[Path], None], code: int,
                                        message: str) -> None:
    root = write_tree(tmp_path / "repo")
    spoil(root)
    done = _build(root, tmp_path / "site")
    assert done.returncode == code
    assert message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "site" / "index.html").exists()
    notes = tmp_path / "site" / "notes.txt"
    assert not notes.exists() or notes.read_text() == "keep me"


def test_the_docs_subcommand_takes_serve_and_out() -> None:
    parser = argparse.ArgumentParser(prog="hypspec")
    add_docs_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["docs", "--serve", "--out", "elsewhere"])
    assert (args.serve, args.out, args.run) == (True, Path("elsewhere"), cmd_docs)
    assert parser.parse_args(["docs"]).out == ROOT / "build" / "site"
