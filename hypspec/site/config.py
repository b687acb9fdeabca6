"""The mkdocs.yml of the generated site: strict, every link and anchor checked, Material, search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypspec.site.pages import STYLESHEET
from hypspec.site.sources import Part

# How the search index splits text into words: at spaces and punctuation, and at a dot that
# starts a capitalised word (`AArch32.SecondStageWalk` is `aarch32` and `secondstagewalk`, so
# either part finds it). A register field keeps its register (`HCR.TWI` stays one word, as the
# bit-field table and every use write it), so searching it finds those places and not every
# section that mentions HCR and some other TWI. Search matches words by their beginning.
SEARCH_SEPARATOR = r"""[\s\-,:;!=<>\[\]()"'/{}]+|\.(?=[A-Z][a-z])"""


def mkdocs_config(parts: list[Part], docs_dir: Path, site_dir: Path,
                  extra_nav: dict[str, list[dict[str, str]]] | None = None) -> dict[str, Any]:
    return {
        "site_name": "hypspec",
        "site_description": "A formal, executable and readable specification of ARM virtualization",
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        # a.md becomes a.html, so the site also reads from the disk without a server, and the
        # links inside spec blocks (raw HTML, which MkDocs does not rewrite) name real files
        "use_directory_urls": False,
        "strict": True,
        "validation": {"omitted_files": "warn", "not_found": "warn", "anchors": "warn",
                       "absolute_links": "warn", "unrecognized_links": "warn"},
        # no web fonts: the site is read offline as often as not, and tested without a network
        "theme": {"name": "material", "font": False,
                  "features": ["navigation.sections", "navigation.top", "search.highlight"]},
        "plugins": [{"search": {"separator": SEARCH_SEPARATOR}}],
        "markdown_extensions": [{"toc": {"permalink": True}}, "attr_list", "tables", "md_in_html",
                                "admonition", "fenced_code"],
        "extra_css": [STYLESHEET],
        "nav": [{"Home": "index.md"}] + [
            {part.title: [{page.title: page.path} for page in part.pages]} for part in parts]
        + ([extra_nav] if extra_nav else []),
    }


def write_config(config: dict[str, Any], path: Path) -> None:
    """YAML is a superset of JSON, so JSON is a mkdocs.yml with nothing left to quote wrongly."""
    path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
