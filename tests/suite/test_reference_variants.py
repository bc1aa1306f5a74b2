"""The bundled cases pass against the reference's other site settings.

The default reference enforces unique email and sends welcome mail, so the cases for
the other side of L-C7, L-C10 and L-C15 skip there; the bundled `reference-open`
profile (same reference, the opposite settings) runs them.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conformance.resources import cases_dir


def test_create_or_update_cases_pass_on_a_site_without_unique_email(tmp_path: Path) -> None:
    files = sorted(str(p) for p in cases_dir().glob("createOrUpdate*.yaml"))
    events = tmp_path / "events.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            *files,
            "--target",
            "reference-open",
            "-q",
            "-n",
            "2",
            "-p",
            "no:cacheprovider",
            f"--events={events}",
            "-rs",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    import json

    from conformance.casefile import load_case_file

    checks = [json.loads(line) for line in events.read_text().splitlines()]
    passed = {c["test"] for c in checks if c.get("event") == "check" and c["verdict"] == "passed"}
    # The tests that only this profile can run (they skip on the default reference).
    only_here = {
        test.description
        for path in files
        for case in load_case_file(Path(path))
        if {"no_unique_email", "no_welcome_mail"} & set(case.requires)
        for test in case.tests
    }
    assert only_here, "the bundled cases lost the other side of L-C7/L-C10/L-C15"
    assert only_here <= passed, sorted(only_here - passed)
    assert not [c for c in checks if c.get("verdict") in ("failed", "errored")]
