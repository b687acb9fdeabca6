"""The built site in a real browser: Debian's chromium, headless, driven by Playwright. A reader
opens a chapter, follows a name to its definition and a property to its proof, searches for a
register and reads its bit-field table."""

from __future__ import annotations

import functools
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from hypspec.api import ROOT, Spec, proof_tree
from hypspec.site.build import Built, build


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    return build(ROOT, tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="module")
def base_url(built: Built) -> Iterator[str]:
    # over HTTP, as a reader's server gives it: search loads its index with a request
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(built.site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: `make tools` installs it (apt-get install chromium)"
    # chromium's sandbox needs user namespaces a root process in a container does not get
    args = ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=args)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    page = browser.new_page()
    page.set_default_timeout(10_000)
    yield page
    page.close()


def _heading(page: Page, name: str) -> None:
    """The page shows the heading of definition `name`, at the anchor the address names."""
    assert page.url.endswith(f"#{name}"), page.url
    heading = page.locator(f'[id="{name}"]')
    expect(heading).to_be_in_viewport()
    expect(heading).to_contain_text(name)


def test_the_site_builds_in_seconds(built: Built) -> None:
    assert (built.site / "index.html").is_file()
    assert (built.site / "spec" / "05-stage2-translation.html").is_file()
    assert built.seconds < 30, f"the site took {built.seconds:.1f} s to build"


def test_a_function_in_a_spec_block_links_to_its_definition(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/spec/05-stage2-translation.html")
    translate = page.locator('h3[id="AArch32.SecondStageTranslate"] ~ div.spec-block').first
    translate.locator("a.spec-ref", has_text="AArch32.SecondStageWalk").first.click()
    _heading(page, "AArch32.SecondStageWalk")
    assert page.url.startswith(f"{base_url}/spec/05-stage2-translation.html")


def test_a_property_that_depends_on_a_definition_links_to_its_proof(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/spec/05-stage2-translation.html#AArch32.SecondStageWalk")
    lists = page.locator('h3[id="AArch32.SecondStageWalk"] ~ div.spec-refs').first
    dependents = lists.locator("p", has_text="Properties that depend on it")
    dependents.get_by_role("link", name="Stage2.OffsetPreserved", exact=True).click()
    _heading(page, "Stage2.OffsetPreserved")
    assert page.url.startswith(f"{base_url}/proofs/stage2.html")
    # and the property lists the mutants it must catch
    mutants = page.locator('h3[id="Stage2.OffsetPreserved"] ~ div.spec-refs').first
    expect(mutants).to_contain_text("Mutants it must catch")
    expect(mutants).to_contain_text("level2-offset-one-bit-short")


def test_searching_a_register_field_lands_on_the_register(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/index.html")
    page.locator("input.md-search__input").fill("HCR.TWI")
    result = page.locator('a.md-search-result__link[href*="01-hyp-configuration.html"][href$="#HCR"]')
    result.click()
    _heading(page, "HCR")
    assert page.url.startswith(f"{base_url}/spec/01-hyp-configuration.html")


def test_a_register_shows_its_bit_field_table(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/spec/05-stage2-translation.html#VTCR")
    table = page.locator('table[data-register="VTCR"]')
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    layout = Spec.load(*proof_tree()).program.globals["VTCR"].ty.layout
    assert layout is not None
    assert [row[0] for row in cells] == [f"VTCR.{name}" for name, _, _ in layout.fields]
    # VTCR resets to 0x80000000: only RES1, bit 31, is set
    assert cells[0] == ["VTCR.T0SZ", "3:0", "'0000'"]
    assert cells[2] == ["VTCR.SL0", "7:6", "'00'"]
    assert cells[-1] == ["VTCR.RES1", "31", "'1'"]
    # a use of a field in code links to its row
    page.goto(f"{base_url}/spec/05-stage2-translation.html#AArch32.SecondStageWalk")
    page.locator('h3[id="AArch32.SecondStageWalk"] ~ div.spec-block').first.locator(
        "a.spec-ref", has_text="VTCR.T0SZ").first.click()
    assert page.url.endswith("#VTCR.T0SZ"), page.url
    expect(page.locator('tr[id="VTCR.T0SZ"]')).to_be_in_viewport()


@pytest.mark.parametrize(("chapter", "figure", "source"), [
    ("spec/02-processor-state.html", "processor-modes", "Model.ModeChange()"),
    ("models/kvm_arm/02-lowvisor.html", "world-switch", "KVM.VcpuRun()"),
    ("spec/05-stage2-translation.html", "stage2-walk", "AArch32.SecondStageTranslate()"),
    ("spec/10-gic-virtualization.html", "list-register", "GICV.Read()")])
def test_a_derived_picture_renders_in_its_chapter(page: Page, base_url: str, chapter: str,
                                                  figure: str, source: str) -> None:
    page.goto(f"{base_url}/{chapter}#figure-{figure}")
    image = page.locator(f"#figure-{figure} img")
    image.scroll_into_view_if_needed()
    # the browser loaded and decoded the SVG: an image that failed to load has no natural size
    size = image.evaluate("img => [img.complete, img.naturalWidth, img.naturalHeight]")
    assert size[0] and size[1] > 100 and size[2] > 100
    box = image.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    assert source in page.locator(f"#figure-{figure} figcaption").inner_text()  # what it is drawn from
