"""``conformance run``: events, JUnit XML and the report side by side, and the gate's exit code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lxml import html as lxml_html

WRONG_CODE = """\
description: a planted failure, on a clause with few bundled checks so the run is short
cases:
  # The clause is only a selector here (the run keeps to --clause L-G5); the failure is
  # a wrong expected code, which any clause would do for.
  - description: planted failure
    clauses: [L-G5]
    api: SRConsAPI
    setup:
      - constituent: alice
    tests:
      - description: a refused subject expected with the wrong code
        request:
          method: logInteraction
          params:
            cons_id: ${alice.cons_id}
            interaction_subject: {repeat: "s", count: 81}
        expect:
          error: 22
"""


def conformance(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "conformance", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600, check=False,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})


def test_a_failing_run_writes_three_files_and_exits_1_unless_waived(tmp_path: Path) -> None:
    (tmp_path / "planted").mkdir()
    (tmp_path / "planted" / "wrong.yaml").write_text(WRONG_CODE, encoding="utf-8")
    run = conformance(tmp_path, "run", "--clause", "L-G5", "--cases", "planted", "--reports", "out")
    assert run.returncode == 1, run.stdout + run.stderr
    for line in ("conformance: events written to out/events.jsonl",
                 "conformance: JUnit XML written to out/junit.xml",
                 "conformance: HTML report written to out/report.html"):
        assert line in run.stdout.splitlines()
    assert "exit 1" in run.stdout.splitlines()
    doc = lxml_html.document_fromstring((tmp_path / "out" / "report.html").read_text(encoding="utf-8"))
    assert doc.xpath('string(//span[@data-state])') == "does not conform"
    assert doc.xpath('//details[@data-filter="failure"]//mark')
    assert "<testsuite" in (tmp_path / "out" / "junit.xml").read_text(encoding="utf-8")

    (tmp_path / "waivers.yaml").write_text(
        '- case: "planted failure"\n  reason: planted by this test\n  owner: qa\n  expires: 2999-12-31\n')
    waived = conformance(tmp_path, "run", "--clause", "L-G5", "--cases", "planted", "--reports", "out",
                         "--waivers", "waivers.yaml")
    assert waived.returncode == 0, waived.stdout + waived.stderr
    assert "conformance gate: conforms:" in waived.stdout


def test_a_broken_waiver_file_stops_the_run_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "waivers.yaml").write_text("- clause: L-L2\n  reason: r\n  owner: o\n")
    run = conformance(tmp_path, "run", "--waivers", "waivers.yaml", "--reports", "out")
    assert run.returncode == 2
    assert run.stderr == "conformance: waivers.yaml:1: 0: 'expires' is a required property\n"
    assert not (tmp_path / "out" / "events.jsonl").exists()


def test_an_unreadable_profile_exits_2(tmp_path: Path) -> None:
    run = conformance(tmp_path, "run", "--target", "nowhere.yaml", "--reports", "out")
    assert run.returncode == 2, run.stdout + run.stderr
    assert not (tmp_path / "out" / "report.html").exists()
