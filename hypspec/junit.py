"""JUnit XML, the report format CI systems show as a list of tests: `prove --junit FILE` and
`conform --junit FILE`.

One <testsuites> holds a <testsuite> per kind of result (the properties, the mutants; the vector
files), and each <testcase> passes or carries one <failure> whose message is the verdict's one
line and whose text the detail (a counterexample, the disagreements). The file is written in one
rename (`hypspec.files`), so a CI job never reads half of one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hypspec.files import write_atomically

# XML 1.0 allows no control character but tab, newline and carriage return, even escaped: a
# stray one in a message would make the whole report unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Case:
    """One test: `failure` is None when it passed, else the one-line verdict."""

    name: str
    classname: str
    seconds: float = 0.0
    failure: str | None = None
    details: str = ""


@dataclass(frozen=True)
class Suite:
    name: str
    cases: Sequence[Case]

    @property
    def failures(self) -> int:
        return sum(case.failure is not None for case in self.cases)

    @property
    def seconds(self) -> float:
        return sum(case.seconds for case in self.cases)


def _clean(text: str) -> str:
    return _NOT_XML.sub("?", text)


def _seconds(value: float) -> str:
    return f"{value:.3f}"


def _testcase(parent: ET.Element, case: Case) -> None:
    element = ET.SubElement(parent, "testcase", name=_clean(case.name), classname=_clean(case.classname),
                            time=_seconds(case.seconds))
    if case.failure is not None:
        failure = ET.SubElement(element, "failure", message=_clean(case.failure), type="failure")
        failure.text = _clean(case.details or case.failure)


def junit_xml(name: str, suites: Sequence[Suite]) -> str:
    """The report as text: `name` is the run (`hypspec prove`), `suites` its parts."""
    root = ET.Element("testsuites", name=name, tests=str(sum(len(s.cases) for s in suites)),
                      failures=str(sum(s.failures for s in suites)),
                      time=_seconds(sum(s.seconds for s in suites)))
    for suite in suites:
        element = ET.SubElement(root, "testsuite", name=suite.name, tests=str(len(suite.cases)),
                                failures=str(suite.failures), errors="0", skipped="0",
                                time=_seconds(suite.seconds))
        for case in suite.cases:
            _testcase(element, case)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, name: str, suites: Sequence[Suite]) -> None:
    write_atomically(path, junit_xml(name, suites))
