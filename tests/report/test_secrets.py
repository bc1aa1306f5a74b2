"""Planted secrets never reach an output: events, JUnit XML, the HTML report, the terminal.

The whole bundled suite runs in a subprocess against the embedded reference (on two
xdist workers, so events built on a worker and written by the controller are covered),
with every credential variable set to a distinctive value, plus planted failing cases so that
failure messages and exchanges (Server API logins, a Client API session token, a
Kognitiv SecurityToken) are written out in full.  Every value is then searched for in
every output, raw and encoded, and by its distinctive core in any letter case, which
every percent-, XML- or JSON-encoding of it still contains.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, quote_plus

#: Distinctive values; the part before the first space is each one's core.  Passwords
#: and tokens carry characters that every encoding changes (& < > + / % space).
SECRETS = {
    "CONFORMANCE_LO_API_KEY": "SeCrEt-ApiKey-7731",
    "CONFORMANCE_LO_SECRET_KEY": "SeCrEt-SiteKey-7732",
    "CONFORMANCE_LO_ADMIN_LOGIN": "SeCrEt-AdminLogin-7733",
    "CONFORMANCE_LO_ADMIN_PASSWORD": "SeCrEt-AdminPw-7734 &<x>+/%",
    "CONFORMANCE_LO_OTHER_ADMIN_LOGIN": "SeCrEt-OtherLogin-7735",
    "CONFORMANCE_LO_OTHER_ADMIN_PASSWORD": "SeCrEt-OtherPw-7736 +/",
    "CONFORMANCE_LO_CONS_USER": "SeCrEt-ConsUser-7737",
    "CONFORMANCE_LO_CONS_PASSWORD": "SeCrEt-ConsPw-7738 &<x>",
    "CONFORMANCE_KG_TOKEN": "SeCrEt-KgToken-7739 &<>",
    "CONFORMANCE_KG_TOKEN_NO_PERMISSION": "SeCrEt-KgNoPerm-7740",
}

PLANTED = """\
description: planted failures, so that failing exchanges are written out in full
cases:
  - description: planted Server API failure
    clauses: [L-L2]
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
  - description: planted Client API failure
    clauses: [L-A5]
    api: CRConsAPI
    caller: constituent
    tests:
      - description: a session's logInteraction expected on the wrong record
        request:
          method: logInteraction
          params: {interaction_subject: "planted ${check.uid}"}
        expect:
          root: updateConsResponse
          fields:
            cons_id: "999999999"
  - description: planted Kognitiv failure
    clauses: [K-R2]
    api: kognitiv
    tests:
      - description: a valid request expected to be refused
        request: {}
        expect: {return_code: 100}
"""


def forms(value: str) -> set[str]:
    """The ways a value can be written into an output file."""
    core = value.split(" ", maxsplit=1)[0]
    return {value, quote(value, safe=""), quote(value), quote_plus(value), html.escape(value),
            html.escape(value, quote=False), json.dumps(value)[1:-1], core}


def leaks(name: str, text: str) -> list[str]:
    found = []
    lowered = text.lower()
    for variable, value in SECRETS.items():
        for form in sorted(forms(value)):
            at = lowered.find(form.lower())
            if at >= 0:
                context = text[max(0, at - 80):at + 80]
                found.append(f"{name}: {variable} as {form!r} at {at}: ...{context!r}...")
    return found


def run_everything(work: Path) -> dict[str, str]:
    """The suite with the planted cases, then the report; every output's text by name."""
    (work / "planted").mkdir()
    (work / "planted" / "planted.yaml").write_text(PLANTED, encoding="utf-8")
    env = {**os.environ, **SECRETS, "PYTHONDONTWRITEBYTECODE": "1"}
    events, junit, report = work / "events.jsonl", work / "junit.xml", work / "report.html"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "--conformance", "--cases", str(work / "planted"),
         f"--events={events}", f"--junitxml={junit}", "-p", "no:cacheprovider", "-q", "-rA",
         "-c", os.devnull, "--rootdir", str(work)],
        cwd=work, env=env, capture_output=True, text=True, timeout=1200, check=False,
    )
    built = subprocess.run(
        [sys.executable, "-m", "conformance", "report", str(events), "-o", str(report)],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert built.returncode == 0, built.stderr
    return {
        "events.jsonl": events.read_text(encoding="utf-8"),
        "junit.xml": junit.read_text(encoding="utf-8"),
        "report.html": report.read_text(encoding="utf-8"),
        "pytest output": run.stdout + run.stderr,
        "report output": built.stdout + built.stderr,
    }


def test_planted_secrets_appear_in_no_output(tmp_path: Path) -> None:
    # One test, not one per output: the suite runs once, whichever xdist worker takes it.
    outputs = run_everything(tmp_path)
    # Without failing exchanges in every output the absence of secrets would prove little.
    for name in ("events.jsonl", "junit.xml", "report.html", "pytest output"):
        assert "planted Server API failure" in outputs[name], name
    events = [json.loads(line) for line in outputs["events.jsonl"].split("\n") if line]
    planted = [e for e in events if e.get("file") == "planted.yaml"]
    assert planted and all(e["verdict"] != "passed" for e in planted)
    assert any(e["verdict"] == "failed" and e["exchanges"] for e in planted)
    # The secrets were sent: the Server API login, a Client API session token and the
    # Kognitiv SecurityToken all appear, masked.
    assert "login_password=***" in outputs["events.jsonl"]
    assert "auth=***" in outputs["events.jsonl"]
    assert "SecurityToken>***<" in outputs["events.jsonl"]
    assert [leak for name, text in outputs.items() for leak in leaks(name, text)] == []
