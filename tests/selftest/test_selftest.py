"""``conformance selftest`` end to end: the suite kills every fault, and can fail.

The first test is the point of the whole exercise and the slowest test of the project:
it runs the suite once against the clean reference and at least once per fault (about
a hundred and forty pytest processes, two at a time).  The others run a one-file case
directory, so they take seconds, and prove the selftest reports what it should:
a killed fault, and a surviving one with a non-zero exit.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from conformance.reference.fault import FAULTS
from conformance.resources import cases_dir


def _selftest(tmp_path: Path, *args: str) -> tuple[int, str, dict[str, Any]]:
    out = tmp_path / "selftest.json"
    done = subprocess.run(
        [sys.executable, "-m", "conformance", "selftest", "--json", str(out), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return done.returncode, done.stdout + done.stderr, report


def _one_file_cases(tmp_path: Path, name: str) -> Path:
    cases = tmp_path / "cases"
    cases.mkdir()
    shutil.copy(cases_dir() / name, cases / name)
    return cases


def test_every_fault_is_killed_and_the_clean_reference_passes(tmp_path: Path) -> None:
    code, output, report = _selftest(tmp_path, "-n", "2")
    survivors = [f["name"] for f in report.get("faults", []) if not f["killed"]]
    assert report["clean"]["passed"], output
    assert survivors == [], output
    assert report["total"] == len(FAULTS)
    assert report["kill_rate"] == 1.0
    assert code == 0, output


def test_a_killed_fault_names_the_clause_and_cases_that_caught_it(tmp_path: Path) -> None:
    cases = _one_file_cases(tmp_path, "kognitiv-transport.yaml")
    code, output, report = _selftest(tmp_path, "--cases", str(cases), "--fault", "wsdl-input-renamed")
    assert code == 0, output
    (fault,) = report["faults"]
    assert fault["killed"] and fault["killed_at"] == "clause"
    assert "K-T1" in fault["caught_clauses"]
    assert all(case.startswith("cases/kognitiv-transport.yaml::") for case in fault["caught_by"])
    assert "kill rate: 1/1 (100.0%)" in output


def test_a_harmless_fault_survives_and_the_selftest_fails(tmp_path: Path) -> None:
    cases = _one_file_cases(tmp_path, "kognitiv-transport.yaml")
    code, output, report = _selftest(tmp_path, "--cases", str(cases), "--fault", "control-help-page-title")
    assert code == 1, output
    assert report["clean"]["passed"], output
    (fault,) = report["faults"]
    assert not fault["killed"] and [run["stage"] for run in fault["runs"]] == ["full"]
    assert "SURVIVED" in output and "surviving: control-help-page-title" in output
    assert report["kill_rate"] == 0.0 and not report["ok"]


def test_an_unknown_fault_is_a_usage_error(tmp_path: Path) -> None:
    code, output, _ = _selftest(tmp_path, "--fault", "subject-byte")
    assert code == 2
    assert "did you mean 'subject-bytes'" in output
