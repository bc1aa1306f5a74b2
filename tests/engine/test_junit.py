"""Errored checks are <error>, not <failure>, in the JUnit XML CI reads."""

from __future__ import annotations

from pathlib import Path

from conformance.junit import junit_address, mark_errored

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="0" failures="2" skipped="0" tests="3">
<testcase classname="cases.transport.yaml" name="a / b [xml]"><failure message="m">x</failure></testcase>
<testcase classname="cases.transport.yaml" name="a / c [xml]"><failure message="m">y</failure></testcase>
<testcase classname="cases.transport.yaml" name="a / d [xml]"/>
</testsuite></testsuites>"""


def test_the_address_is_the_one_pytest_writes() -> None:
    assert junit_address("cases/transport.yaml::a / b [xml]") == ("cases.transport.yaml", "a / b [xml]")
    assert junit_address("tests/x/test_y.py::test_z") == ("tests.x.test_y", "test_z")


def test_only_errored_checks_become_errors(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert mark_errored(path, ["cases/transport.yaml::a / b [xml]"]) == 1
    text = path.read_text(encoding="utf-8")
    assert 'errors="1" failures="1"' in text
    assert '<testcase classname="cases.transport.yaml" name="a / b [xml]"><error' in text
    assert '<testcase classname="cases.transport.yaml" name="a / c [xml]"><failure' in text


def test_nothing_errored_leaves_the_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT, encoding="utf-8")
    assert mark_errored(path, ["cases/other.yaml::x [xml]"]) == 0
    assert path.read_text(encoding="utf-8") == JUNIT
