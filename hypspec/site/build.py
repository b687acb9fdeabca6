"""Build the site: load and check the tree, write the Markdown and mkdocs.yml, run MkDocs."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hypspec.api import Spec, proof_tree, spec_hash
from hypspec.conformance.deviations import load_deviations
from hypspec.output import colour_allowed, shown
from hypspec.site.catalog import Catalog, make_catalog
from hypspec.site.config import mkdocs_config, write_config
from hypspec.site.definitions import SiteError
from hypspec.site.figures import make_figures
from hypspec.site.mutations import read_all
from hypspec.site.pages import write_pages
from hypspec.site.sources import read_parts
from hypspec.site.status import read_reports
from hypspec.site.status_pages import PAGES, Hashes, definition_notes, status_markdown
from hypspec.site.status_pages import TITLE as STATUS_TITLE

# Written into a directory this package generated, so a later build may empty it and nothing
# else is ever deleted (MkDocs itself empties the HTML directory before it writes).
MARKER = ".hypspec-site"


class OutputError(SiteError):
    """The output directory cannot be used: the user picks another."""


@dataclass(frozen=True)
class Built:
    site: Path  # the HTML directory
    source: Path  # the generated Markdown and mkdocs.yml
    pages: int
    seconds: float


def source_dir(site: Path) -> Path:
    """Where the Markdown for the HTML directory `site` is generated: beside it, `site-src`."""
    return site.with_name(site.name + "-src")


def generate(root: Path, site: Path, status: Sequence[Path] = ()) -> tuple[Catalog, Path]:
    """Check the reports and the tree (a StatusError or SpecError says what is wrong) and write
    the site's sources; return the catalog and the mkdocs.yml."""
    reports = read_reports(list(status))
    spec = Spec.load(*proof_tree(root))
    parts = read_parts(root)
    catalog = make_catalog(spec.program, parts, read_all(root))
    figures = make_figures(spec, parts)
    src = source_dir(site)
    _claim(src)
    _claim(site)
    docs = src / "docs"
    hashes = Hashes(spec_hash(root), spec.digest)
    write_pages(catalog, docs, figures, definition_notes(reports, catalog, hashes))
    deviations = load_deviations()
    for page in PAGES:
        (docs / page.path).parent.mkdir(parents=True, exist_ok=True)
        (docs / page.path).write_text(status_markdown(page, reports, catalog, deviations, hashes),
                                      encoding="utf-8")
    config = src / "mkdocs.yml"
    status_nav = {STATUS_TITLE: [{page.title: page.path} for page in PAGES]}
    write_config(mkdocs_config(catalog.parts, docs.resolve(), _staging(site).resolve(), status_nav),
                 config)
    return catalog, config


def _staging(site: Path) -> Path:
    """Where MkDocs writes: a strict MkDocs that fails has still written every page, so the HTML
    moves to `site` only once the build has passed."""
    return source_dir(site) / "html"


def build(root: Path, site: Path, status: Sequence[Path] = ()) -> Built:
    start = time.perf_counter()
    catalog, config = generate(root, site, status)
    _mkdocs("build", config)
    shutil.rmtree(site)  # claimed by `generate`: empty but for the marker
    _staging(site).rename(site)
    (site / MARKER).touch()
    return Built(site, source_dir(site), len(catalog.pages) + 1 + len(PAGES), time.perf_counter() - start)


def serve(root: Path, site: Path, quiet: bool = False, status: Sequence[Path] = ()) -> None:
    """Generate once and let MkDocs serve it (it rebuilds when the generated pages change;
    run `hypspec docs` again after editing a chapter). `quiet` (`-q`) keeps MkDocs's log to its
    errors."""
    _, config = generate(root, site, status)
    command = [sys.executable, "-m", "mkdocs", "serve", "-f", str(config), *(["-q"] if quiet else [])]
    if colour_allowed(sys.stderr):
        subprocess.run(command, check=False)
        return
    # MkDocs colours its log's level names even on a pipe: pass its log on without them
    with subprocess.Popen(command, stderr=subprocess.PIPE, text=True) as server:
        try:
            for line in server.stderr or []:
                sys.stderr.write(shown(line, sys.stderr))
        except BaseException:
            server.terminate()  # a Ctrl-C sent to hypspec alone must not leave the server running
            raise


def _claim(directory: Path) -> None:
    """Empty a directory this package made before; refuse one it did not make."""
    if directory.exists() and any(directory.iterdir()):
        if not (directory / MARKER).exists():
            raise OutputError(f"{directory} exists and holds files the site build did not write; "
                              f"give an empty or new directory with --out")
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).touch()


def _mkdocs(command: str, config: Path) -> None:
    """Run MkDocs strict; its warnings (a broken link, a missing anchor) fail the build."""
    try:
        done = subprocess.run([sys.executable, "-m", "mkdocs", command, "-f", str(config)],
                              capture_output=True, text=True, check=False)
    except OSError as err:
        raise SiteError(f"cannot run MkDocs: {err}") from err
    if done.returncode != 0:
        output = (done.stderr + done.stdout).strip()
        if "No module named mkdocs" in output:
            raise SiteError("MkDocs is not installed: run `make docs` or "
                            "`.venv/bin/pip install -e '.[test]'`")
        raise SiteError(f"MkDocs failed on the generated site ({config}):\n{shown(output, sys.stderr)}")
