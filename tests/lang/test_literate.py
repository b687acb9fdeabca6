"""Literate rules: fences, one definition per heading [ONE-DEF] [HEADING-NAMES], the
`*Source:*` line [SOURCE-LINE], manifests [MANIFEST] and file encoding [UTF8]."""

from __future__ import annotations

from pathlib import Path

import pytest

from hypspec.lang.literate import read_manifest
from tests.lang.conftest import (
    FIRST_CODE_LINE,
    assert_diagnostic,
    chapter,
    expect_error,
    loads,
    spec_file,
    the_error,
    write,
)

VAR_F = "var integer F;"


def test_unclosed_code_fence(workdir: Path) -> None:
    """[FENCE-CLOSED] a fence that is never closed is reported at its opening line."""
    path = write(workdir, chapter(("F", VAR_F)).rstrip().removesuffix("```") + "\n")
    assert_diagnostic(the_error(path), path, (7, 1), "code block never closed")


def test_unclosed_prose_fence(workdir: Path) -> None:
    """[FENCE-CLOSED] the rule holds for every fence, not only ```spec ones."""
    path = write(workdir, chapter(("F", VAR_F)) + "\n```python\nprint()\n")
    assert_diagnostic(the_error(path), path, "```python", "code block never closed")


def test_other_fences_are_prose(workdir: Path) -> None:
    """Only ```spec blocks are code; ~~~spec fences count too."""
    text = chapter(("F", VAR_F)) + "\n```python\nthis is $ not spec\n```\n"
    text += "\n### `G`\n\n*Source:* a test.\n\n~~~spec\nvar integer G;\n~~~\n"
    assert loads(write(workdir, text)).program.order == ["F", "G"]


def test_block_with_two_definitions(workdir: Path) -> None:
    """[ONE-DEF] the second definition of a block is reported at its name."""
    expect_error(workdir, [("F", "var integer F;\nvar integer G;")], "G;",
                 "holds one definition", "new heading")


def test_block_without_definition(workdir: Path) -> None:
    """[ONE-DEF] a block holding only comments is reported at its first line."""
    expect_error(workdir, [("F", "// nothing here")], (FIRST_CODE_LINE, 1),
                 "must hold one definition")


def test_definition_not_under_heading_naming_it(workdir: Path) -> None:
    """[HEADING-NAMES] the heading must name the definition in backticks."""
    expect_error(workdir, [("G", VAR_F)], "F;", "definition 'F'",
                 "heading naming it as `F`")


def test_definition_before_any_heading(workdir: Path) -> None:
    """[HEADING-NAMES] a block before the first heading has no heading at all."""
    path = write(workdir, "Prose.\n\n```spec\nvar integer F;\n```\n")
    assert_diagnostic(the_error(path), path, "F;", "must sit under a heading")


def test_heading_may_name_several_and_use_parentheses(workdir: Path) -> None:
    """[HEADING-NAMES] `F()` names F; a heading may name more than one definition."""
    text = "# T\n\n### `F()` and `G`\n\n*Source:* a test.\n\n```spec\ninteger F()\n"
    text += "    return 1;\n```\n\n```spec\nvar integer G;\n```\n"
    assert loads(write(workdir, text)).program.order == ["F", "G"]


def test_missing_source_line(workdir: Path) -> None:
    """[SOURCE-LINE] reported at the heading, which the citation must follow."""
    path = write(workdir, "# T\n\n### `F`\n\nSome prose.\n\n```spec\nvar integer F;\n```\n")
    assert_diagnostic(the_error(path), path, (3, 1), "heading for 'F'",
                      "needs a '*Source:*' line")


def test_source_line_belongs_to_its_heading(workdir: Path) -> None:
    """[SOURCE-LINE] a citation under one heading does not cover the next heading."""
    text = chapter(("F", VAR_F)) + "\n### `G`\n\n```spec\nvar integer G;\n```\n"
    path = write(workdir, text)
    assert_diagnostic(the_error(path), path, "### `G`", "heading for 'G'", "*Source:*")


def test_manifest_order(workdir: Path) -> None:
    """[MANIFEST] a directory is read through its manifest, in the manifest's order."""
    spec = workdir / "spec"
    spec.mkdir()
    spec_file(spec, ("B", "integer B()\n    return A;"), name="b.md")
    spec_file(spec, ("A", "constant integer A = 1;"), name="a.md")
    (spec / "manifest.toml").write_text('chapters = ["b.md", "a.md"]\n')
    loaded = loads(Path("spec"))
    assert [f.name for f in loaded.files] == ["b.md", "a.md"]
    assert loaded.program.order == ["B", "A"]


def test_manifest_lists_missing_chapter(workdir: Path) -> None:
    """[MANIFEST] every chapter the manifest lists must exist."""
    spec = workdir / "spec"
    spec.mkdir()
    spec_file(spec, ("A", VAR_F.replace("F", "A")), name="a.md")
    (spec / "manifest.toml").write_text('chapters = ["a.md", "gone.md"]\n')
    manifest = Path("spec/manifest.toml")
    assert_diagnostic(the_error(Path("spec")), manifest, '"gone.md"', "missing chapter",
                      "gone.md", quoted=False)


def test_malformed_manifest_toml(workdir: Path) -> None:
    """[MANIFEST] a TOML syntax error is reported where tomllib found it."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_text('# chapters\nchapters = ["a.md",\n  oops]\n')
    diagnostic = the_error(Path("spec"))
    assert (diagnostic.loc.file, diagnostic.loc.line, diagnostic.loc.col) == (
        "spec/manifest.toml", 3, 3,
    )
    assert "malformed manifest" in diagnostic.message


def test_manifest_without_chapter_list(workdir: Path) -> None:
    """[MANIFEST] `chapters` must be a list of file names."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_text("chapters = 3\n")
    diagnostic = the_error(Path("spec"))
    assert diagnostic.loc.file == "spec/manifest.toml"
    assert "manifest needs `chapters" in diagnostic.message


def test_directory_without_manifest(workdir: Path) -> None:
    """[MANIFEST] a directory given to load must have a manifest."""
    (workdir / "spec").mkdir()
    diagnostic = the_error(Path("spec"))
    assert diagnostic.loc.file == "spec/manifest.toml"
    assert "no manifest.toml" in diagnostic.message


def test_missing_path(workdir: Path) -> None:
    diagnostic = the_error(Path("nowhere.md"))
    assert (diagnostic.loc.file, diagnostic.message) == ("nowhere.md", "no such file or directory")


def test_non_utf8_file(workdir: Path) -> None:
    """[UTF8] chapters are UTF-8; the first bad byte is located by line and character."""
    path = workdir / "bad.md"
    path.write_bytes("# Tést\n\nprose \xe9 ok\nbad: ".encode() + b"\xff\xfe\n")
    diagnostic = the_error(path)
    assert (diagnostic.loc.file, diagnostic.loc.line, diagnostic.loc.col) == ("bad.md", 4, 6)
    assert "not UTF-8" in diagnostic.message
    assert "0xff" in diagnostic.message


def test_non_utf8_manifest(workdir: Path) -> None:
    """[UTF8] the manifest too."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_bytes(b'chapters = ["\xff.md"]\n')
    diagnostic = the_error(Path("spec"))
    assert diagnostic.loc.file == "spec/manifest.toml"
    assert "not UTF-8" in diagnostic.message


def test_manifest_budget_for_obligations(workdir: Path) -> None:
    """[MANIFEST] a manifest may give its model's proof obligations a solver budget, in seconds."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_text("chapters = []\nobligation_timeout_s = 90\n")
    assert read_manifest(spec).obligation_timeout_s == 90.0
    (spec / "manifest.toml").write_text("chapters = []\n")
    assert read_manifest(spec).obligation_timeout_s is None


@pytest.mark.parametrize("value", ["0", "-5", "true", '"360"', "inf", "5e9"])
def test_manifest_budget_must_be_seconds(workdir: Path, value: str) -> None:
    """[MANIFEST] the budget is a number of seconds Z3 can take; anything else is refused where
    it is set."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_text(f'chapters = []\n\nobligation_timeout_s = {value}\n')
    manifest = Path("spec/manifest.toml")
    assert_diagnostic(the_error(Path("spec")), manifest, (3, 1), "obligation_timeout_s", "seconds",
                      quoted=False)


def test_manifest_unknown_key(workdir: Path) -> None:
    """[MANIFEST] a key the loader does not know (a misspelt budget, say) is refused, not
    ignored."""
    spec = workdir / "spec"
    spec.mkdir()
    (spec / "manifest.toml").write_text('chapters = []\n  obligation_timeout = 90\n')
    manifest = Path("spec/manifest.toml")
    assert_diagnostic(the_error(Path("spec")), manifest, (2, 3), "unknown manifest key",
                      "'obligation_timeout'", "obligation_timeout_s", quoted=False)
